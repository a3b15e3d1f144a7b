/**
 * bpf_ringbuf_output (130), _reserve (131), _submit (132), _discard (133), _query (134). Submit and
 * discard find the ring from the record pointer, as the kernel does from the record header's page offset.
 */
import { BPF_FUNC, E } from '../../bpf/abi/index.ts';
import type { HelperEnv, HelperFn } from '../vm/index.ts';
import { argSize, ret } from './args.ts';
import { HelperError } from './errors.ts';
import type { MapTable } from './map-table.ts';
import { RingBuf } from './ringbuf.ts';

const ring = (maps: MapTable, env: HelperEnv): RingBuf => {
  const map = maps.fromHandle(env.arg(1));
  if (!(map instanceof RingBuf)) throw new HelperError('WRONG_MAP_TYPE', `map ${map.name} is not a ringbuf`);
  return map;
};

const commit = (maps: MapTable, env: HelperEnv, discard: boolean): void => {
  const at = env.arg(1);
  const owner = maps.maps.find((m): m is RingBuf => m instanceof RingBuf && m.owns(env.memory, at));
  if (owner === undefined) throw new HelperError('NOT_A_RECORD', `0x${at.toString(16)} is not a live ringbuf record`);
  owner.commit(env.memory, at, env.arg(2), discard);
  // RET_VOID, but the kernel function returns 0 and R0 gets it
  ret(env, 0);
};

export const ringbufHelpers = (maps: MapTable): [number, HelperFn][] => [
  [
    BPF_FUNC.ringbuf_output,
    (env) => {
      // flags, then room (-EAGAIN), then the copy: the kernel's order
      const rb = ring(maps, env);
      const flags = env.arg(4);
      if (!RingBuf.outputFlagsValid(flags)) return ret(env, -E.EINVAL);
      const size = argSize(env, 3);
      // the source is checked before anything is reserved, so a fault leaves no busy record behind
      const src = env.memory.slice(env.arg(2), size);
      const at = rb.reserve(env.memory, size);
      if (at === 0n) return ret(env, -E.EAGAIN);
      env.memory.slice(at, size, true).set(src);
      rb.commit(env.memory, at, flags, false);
      ret(env, 0);
    },
  ],
  [
    BPF_FUNC.ringbuf_reserve,
    (env) => {
      const rb = ring(maps, env);
      // any flag makes reserve return NULL
      ret(env, env.arg(3) !== 0n ? 0n : rb.reserve(env.memory, argSize(env, 2)));
    },
  ],
  [BPF_FUNC.ringbuf_submit, (env) => commit(maps, env, false)],
  [BPF_FUNC.ringbuf_discard, (env) => commit(maps, env, true)],
  [BPF_FUNC.ringbuf_query, (env) => ret(env, ring(maps, env).query(env.arg(2)))],
];
