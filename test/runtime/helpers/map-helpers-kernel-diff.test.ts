/**
 * Map helpers 1/2/3 against the kernel's, from inside a program (the helper path, whose errno order
 * differs from the syscall's): a generated XDP program updates, deletes and looks up keys of a hash or
 * array map, stores every outcome in a result array, and ends with a host-side comparison of the maps.
 * Skipped by name without root / bpf(2).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BPF_MAP_TYPE } from '../../../bpf/abi/index.ts';
import { assembleUbpf } from '../../../bpf/asm/ubpf/index.ts';
import { ArrayMap, createMap, kexecHelpers, MapTable } from '../../../runtime/helpers/index.ts';
import {
  AttachType,
  BpfError,
  closeFd,
  mapCreate,
  mapLookup,
  ProgType,
  progLoadWithLog,
  progTestRun,
} from '../../../runtime/linux/index.ts';
import { Memory, Vm } from '../../../runtime/vm/index.ts';
import { missingBpf } from '../../support/env.ts';

const SLOTS = 48;
const ATTR = { keySize: 4, valueSize: 8, maxEntries: 3 };

type Op =
  | { kind: 'update'; key: number; value: number; flags: number }
  | { kind: 'delete'; key: number }
  | { kind: 'lookup'; key: number; write: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('update' as const), key: fc.nat(4), value: fc.nat(1000), flags: fc.nat(6) }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.nat(4) }),
  fc.record({ kind: fc.constant('lookup' as const), key: fc.nat(4), write: fc.boolean() }),
);

/** map fd 0 = results, 1 = the map under test. */
const programText = (ops: readonly Op[]): string => {
  const out = ['stw [%r10-4], 0', 'lddw_map_fd %r1, 0', 'mov %r2, %r10', 'add %r2, -4', 'call 1'];
  out.push('jne %r0, 0, go', 'mov %r0, 2', 'exit', 'go:', 'mov %r6, %r0');
  ops.slice(0, SLOTS).forEach((o, i) => {
    out.push(`stw [%r10-4], ${o.key}`, 'lddw_map_fd %r1, 1', 'mov %r2, %r10', 'add %r2, -4');
    if (o.kind === 'update') {
      out.push(`stdw [%r10-16], ${o.value}`, 'mov %r3, %r10', 'add %r3, -16', `mov %r4, ${o.flags}`, 'call 2');
    } else if (o.kind === 'delete') {
      out.push('call 3');
    } else {
      // the value, or -1 when absent; optionally write through the pointer
      out.push('call 1', `jne %r0, 0, f${i}`, 'mov %r0, -1', `ja d${i}`, `f${i}:`);
      if (o.write) out.push(`stdw [%r0], ${7000 + i}`);
      out.push('ldxdw %r0, [%r0]', `d${i}:`);
    }
    out.push(`stxdw [%r6+${8 * i}], %r0`);
  });
  out.push('mov %r0, 2', 'exit');
  return out.join('\n');
};

const kernelValue = (fd: number, key: number): Uint8Array | undefined => {
  try {
    return mapLookup(fd, Uint8Array.of(key, 0, 0, 0), ATTR.valueSize);
  } catch (e) {
    if (e instanceof BpfError && e.errnoName === 'ENOENT') return undefined;
    throw e;
  }
};

const words = (b: Uint8Array): bigint[] => [...new BigInt64Array(b.buffer, b.byteOffset, b.length / 8)];

const run = (kind: 'HASH' | 'ARRAY', ops: readonly Op[]) => {
  const text = programText(ops);
  // ours
  const results = new ArrayMap({ keySize: 4, valueSize: 8 * SLOTS, maxEntries: 1 });
  const map = createMap(BPF_MAP_TYPE[kind], ATTR) as ArrayMap;
  const maps = new MapTable().add(results).add(map);
  const memory = new Memory();
  new Vm(assembleUbpf(text).insns, { helpers: kexecHelpers({ maps }), memory, resolveLddw: maps.resolver(memory) }).run(
    {
      mem: new Uint8Array(64),
    },
  );
  // the kernel
  const outFd = mapCreate({ mapType: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 8 * SLOTS, maxEntries: 1 });
  const mapFd = mapCreate({ mapType: BPF_MAP_TYPE[kind], ...ATTR });
  try {
    const insns = assembleUbpf(text).insns.map((i) =>
      i.spec.kind === 'lddw' && i.spec.op === 'map_fd' ? { ...i, imm: i.imm === 0 ? outFd : mapFd } : i,
    );
    const prog = progLoadWithLog({ progType: ProgType.XDP, expectedAttachType: AttachType.XDP, insns });
    try {
      progTestRun(prog.fd, { dataIn: new Uint8Array(64) });
    } finally {
      closeFd(prog.fd);
    }
    return {
      ours: {
        results: words(results.element(0)),
        values: [0, 1, 2, 3, 4].map((k) => map.lookup(Uint8Array.of(k, 0, 0, 0))),
      },
      kernel: {
        results: words(mapLookup(outFd, new Uint8Array(4), 8 * SLOTS)),
        values: [0, 1, 2, 3, 4].map((k) => kernelValue(mapFd, k)),
      },
    };
  } finally {
    closeFd(outFd);
    closeFd(mapFd);
  }
};

describe('map helpers vs the kernel (BPF_PROG_TEST_RUN)', () => {
  for (const kind of ['HASH', 'ARRAY'] as const) {
    it(`agree on every ${kind.toLowerCase()} update, delete and lookup from a program (property)`, (ctx) => {
      const why = missingBpf();
      if (why) ctx.skip(why);
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: SLOTS }), (ops) => {
          const r = run(kind, ops);
          expect(r.ours).toEqual(r.kernel);
        }),
        { numRuns: 40 },
      );
    });
  }
});
