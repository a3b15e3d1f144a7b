/**
 * bpf_map_lookup_elem (1), bpf_map_update_elem (2), bpf_map_delete_elem (3) over a MapTable. Keys and
 * values are read from program memory with the map's key_size / value_size, as the kernel does.
 */
import { BPF_FUNC } from '../../bpf/abi/index.ts';
import type { HelperEnv, HelperFn } from '../vm/index.ts';
import { ret } from './args.ts';
import { HelperError } from './errors.ts';
import type { KeyValueMap } from './kv-map.ts';
import type { MapTable } from './map-table.ts';

const kvMap = (maps: MapTable, env: HelperEnv): KeyValueMap => {
  const map = maps.fromHandle(env.arg(1));
  if (map.type === 'BPF_MAP_TYPE_RINGBUF')
    throw new HelperError('WRONG_MAP_TYPE', `ringbuf ${map.name} has no elements to look up, update or delete`);
  return map;
};

export const mapHelpers = (maps: MapTable): [number, HelperFn][] => [
  [
    BPF_FUNC.map_lookup_elem,
    (env) => {
      const map = kvMap(maps, env);
      ret(env, map.lookupAddress(env.memory, env.memory.slice(env.arg(2), map.keySize)));
    },
  ],
  [
    BPF_FUNC.map_update_elem,
    (env) => {
      const map = kvMap(maps, env);
      const key = env.memory.slice(env.arg(2), map.keySize);
      const value = env.memory.slice(env.arg(3), map.valueSize);
      ret(env, map.update(key, value, env.arg(4)));
    },
  ],
  [
    BPF_FUNC.map_delete_elem,
    (env) => {
      const map = kvMap(maps, env);
      ret(env, map.delete(env.memory.slice(env.arg(2), map.keySize)));
    },
  ],
];
