/**
 * Ring-buffer helpers against the kernel's: one generated XDP program — blocks of up to three reserves
 * (constant sizes, some with flags), released in any order by submit or discard, bpf_ringbuf_output
 * calls with any flags, bpf_ringbuf_query of every selector — runs in the kernel (BPF_PROG_TEST_RUN) and
 * in our interpreter; every helper outcome is stored in an array map and both maps must agree.
 * Skipped by name without root / bpf(2).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assembleUbpf } from '../../../bpf/asm/ubpf/index.ts';
import { BPF_MAP_TYPE } from '../../../bpf/abi/index.ts';
import { ArrayMap, kexecHelpers, MapTable, RingBuf } from '../../../runtime/helpers/index.ts';
import {
  AttachType,
  closeFd,
  mapCreate,
  mapLookup,
  ProgType,
  progLoadWithLog,
  progTestRun,
} from '../../../runtime/linux/index.ts';
import { Memory, Vm } from '../../../runtime/vm/index.ts';
import { missingBpf } from '../../support/env.ts';

const RING = 4096;
const SLOTS = 64;
const SIZES = [0, 1, 7, 8, 9, 100, 1000, 2040, 4072, 4080, 4088, 4089, 5000] as const;

interface Block {
  readonly reserves: readonly { size: number; flags: number }[];
  /** Release order (indexes into reserves) and whether each is a discard. */
  readonly release: readonly { which: number; discard: boolean; flags: number }[];
  readonly outputs: readonly { size: number; flags: number }[];
  readonly queries: readonly number[];
}

const block: fc.Arbitrary<Block> = fc
  .record({
    reserves: fc.array(fc.record({ size: fc.constantFrom(...SIZES), flags: fc.constantFrom(0, 0, 0, 1) }), {
      minLength: 1,
      maxLength: 3,
    }),
    discards: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    relFlags: fc.array(fc.constantFrom(0, 1, 2, 8), { minLength: 3, maxLength: 3 }),
    order: fc.constantFrom([0, 1, 2], [2, 1, 0], [1, 0, 2], [0, 2, 1]),
    outputs: fc.array(fc.record({ size: fc.nat(64), flags: fc.constantFrom(0, 1, 2, 3, 4) }), { maxLength: 2 }),
    queries: fc.array(fc.nat(4), { maxLength: 2 }),
  })
  .map((b) => ({
    reserves: b.reserves,
    release: b.order
      .filter((i) => i < b.reserves.length)
      .map((i) => ({ which: i, discard: b.discards[i]!, flags: b.relFlags[i]! })),
    outputs: b.outputs,
    queries: b.queries,
  }));

/** The program text; `lddw_map_fd` 0 = the result array, 1 = the ring (fds patched for the kernel). */
const programText = (blocks: readonly Block[]): string => {
  const out: string[] = [];
  let slot = 0;
  let label = 0;
  const store = () => {
    if (slot < SLOTS) out.push(`stxdw [%r6+${8 * slot}], %r0`);
    slot++;
  };
  out.push('stw [%r10-4], 0', 'lddw_map_fd %r1, 0', 'mov %r2, %r10', 'add %r2, -4', 'call 1', 'jne %r0, 0, go');
  out.push('mov %r0, 2', 'exit', 'go:', 'mov %r6, %r0');
  for (let i = 8; i <= 64; i += 8) out.push(`stdw [%r10-${i}], ${i}`);
  const regs = ['%r7', '%r8', '%r9'];
  for (const b of blocks) {
    b.reserves.forEach((r, i) => {
      out.push('lddw_map_fd %r1, 1', `mov %r2, ${r.size}`, `mov %r3, ${r.flags}`, 'call 131', `mov ${regs[i]}, %r0`);
      // 1 when a record was handed out
      out.push(`jeq %r0, 0, z${label}`, 'mov %r0, 1', `z${label}:`);
      label++;
      store();
    });
    for (const q of b.queries) {
      out.push('lddw_map_fd %r1, 1', `mov %r2, ${q}`, 'call 134');
      store();
    }
    for (const r of b.release) {
      out.push(`jeq ${regs[r.which]}, 0, s${label}`, `mov %r1, ${regs[r.which]}`, `mov %r2, ${r.flags}`);
      out.push(`call ${r.discard ? 133 : 132}`, `s${label}:`);
      label++;
    }
    for (const o of b.outputs) {
      out.push('lddw_map_fd %r1, 1', 'mov %r2, %r10', 'add %r2, -64', `mov %r3, ${o.size}`, `mov %r4, ${o.flags}`);
      out.push('call 130');
      store();
    }
  }
  for (const q of [0, 1, 2, 3]) {
    out.push('lddw_map_fd %r1, 1', `mov %r2, ${q}`, 'call 134');
    store();
  }
  out.push('mov %r0, 2', 'exit');
  return out.join('\n');
};

const inKernel = (text: string): Uint8Array => {
  const out = mapCreate({ mapType: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 8 * SLOTS, maxEntries: 1 });
  const ring = mapCreate({ mapType: BPF_MAP_TYPE.RINGBUF, keySize: 0, valueSize: 0, maxEntries: RING });
  try {
    const insns = assembleUbpf(text).insns.map((i) =>
      i.spec.kind === 'lddw' && i.spec.op === 'map_fd' ? { ...i, imm: i.imm === 0 ? out : ring } : i,
    );
    const prog = progLoadWithLog({ progType: ProgType.XDP, expectedAttachType: AttachType.XDP, insns });
    try {
      progTestRun(prog.fd, { dataIn: new Uint8Array(64) });
    } finally {
      closeFd(prog.fd);
    }
    return mapLookup(out, new Uint8Array(4), 8 * SLOTS);
  } finally {
    closeFd(out);
    closeFd(ring);
  }
};

const inOurs = (text: string): Uint8Array => {
  const out = new ArrayMap({ keySize: 4, valueSize: 8 * SLOTS, maxEntries: 1 });
  const maps = new MapTable().add(out).add(new RingBuf({ maxEntries: RING }));
  const memory = new Memory();
  const vm = new Vm(assembleUbpf(text).insns, {
    helpers: kexecHelpers({ maps }),
    memory,
    resolveLddw: maps.resolver(memory),
  });
  vm.run({ mem: new Uint8Array(64) });
  return out.element(0).slice();
};

const words = (b: Uint8Array): bigint[] => [...new BigInt64Array(b.buffer, b.byteOffset, b.length / 8)];

describe('ring-buffer helpers vs the kernel (BPF_PROG_TEST_RUN)', () => {
  it('agree on every reserve, output and query outcome for generated programs (property)', (ctx) => {
    const why = missingBpf();
    if (why) ctx.skip(why);
    fc.assert(
      fc.property(fc.array(block, { minLength: 1, maxLength: 5 }), (blocks) => {
        const text = programText(blocks);
        expect(words(inOurs(text))).toEqual(words(inKernel(text)));
      }),
      { numRuns: 60 },
    );
  });
});
