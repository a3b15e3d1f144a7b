/**
 * precision.ts (static stand-in for mark_chain_precision) and the combined stack check
 * (stack-depth.ts): which registers pruning compares exactly, and what that buys on a real parser.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileSource, linkedInsns, linkedMaps } from '../../../compiler/index.ts';
import { socketFilter, syscall, tracingFentry, verify } from '../../../runtime/verifier/index.ts';
import { preciseRegisters } from '../../../runtime/verifier/precision.ts';
import { fromRawSlots } from '../../../runtime/verifier/program.ts';
import { MAPS } from './corpus/hand.ts';
import { asmSlots } from './support/asm.ts';

const preciseAt = (asm: string, retChecked = false): number[] => {
  const prog = fromRawSlots(asmSlots(asm, MAPS));
  return [...preciseRegisters(prog, [0], retChecked)];
};
const has = (mask: number | undefined, r: number): boolean => ((mask ?? 0) & (1 << r)) !== 0;

describe('static precision', () => {
  it('keeps a value only returned imprecise, unless the return value is range-checked', () => {
    const asm = 'r7 = *(u32 *)(r1 + 0)\n r8 = r7\n r8 *= 3\n r0 = r8\n exit';
    expect(has(preciseAt(asm)[2], 8)).toBe(false);
    expect(has(preciseAt(asm, true)[2], 8)).toBe(true);
    expect(has(preciseAt(asm, true)[1], 7)).toBe(true);
  });

  it('marks the scalar side of pointer arithmetic and of comparisons', () => {
    const arith = preciseAt('r7 = *(u32 *)(r1 + 0)\n r7 &= 7\n r6 = r10\n r6 += -8\n r6 += r7\n r0 = 0\n exit');
    expect(has(arith[1], 7)).toBe(true);
    expect(has(arith[4], 7)).toBe(true);
    const cmp = preciseAt('r7 = *(u32 *)(r1 + 0)\n r8 = r7\n if r8 > 3 goto +1\n r0 = 0\n exit');
    expect(has(cmp[1], 7)).toBe(true);
    // a byte load cannot be a pointer, so this addition is plain arithmetic
    const plain = preciseAt('r7 = *(u8 *)(r1 + 0)\n r8 = r7\n r8 += r7\n r0 = 0\n exit');
    expect(has(plain[2], 7)).toBe(false);
  });

  it('marks helper arguments and stored values', () => {
    const call = preciseAt('r6 = r1\n r1 = 5\n r2 = r1\n call bpf_ktime_get_ns\n r0 = 0\n exit');
    expect(has(call[3], 1)).toBe(false); // ktime_get_ns takes no argument
    const store = preciseAt('r7 = *(u32 *)(r1 + 0)\n *(u64 *)(r10 - 8) = r7\n r0 = 0\n exit');
    expect(has(store[1], 7)).toBe(true);
  });

  it("verifies the DSL's cpio newc parser near the kernel's count (3033 on 6.18), not at the 1M limit", () => {
    const path = join(import.meta.dirname, '../../compiler/programs/cpio-header.ts');
    const out = compileSource(path, readFileSync(path, 'utf8'));
    const prog = out.programs.find((p) => p.name === 'cpioHeader');
    if (!prog) throw new Error('cpio-header.ts has no cpioHeader program');
    const r = verify(linkedInsns(out, prog), { policy: syscall, maps: linkedMaps(out), sleepable: true });
    expect(r.error?.message).toBeUndefined();
    expect(r.stats.insnProcessed).toBeLessThan(3033 * 1.15);
  });
});

describe('combined stack depth', () => {
  const twoFrames = (mainDepth: number, subDepth: number): string =>
    `*(u8 *)(r10 - ${mainDepth}) = 0\n call fn\n r0 = 0\n exit\nfn:\n *(u8 *)(r10 - ${subDepth}) = 0\n r0 = 0\n exit`;

  it('adds the frames of a call chain, each rounded up to 16 bytes', () => {
    expect(verify(asmSlots(twoFrames(256, 256), MAPS), { policy: socketFilter }).accepted).toBe(true);
    const r = verify(asmSlots(twoFrames(257, 256), MAPS), { policy: socketFilter });
    expect(r.error?.message).toBe('combined stack size of 2 calls is 528. Too large');
  });

  it('keeps subprograms of 64 bytes or more of a tracing program on their private stack', () => {
    const fentry = tracingFentry([{ kind: 'scalar' }]);
    expect(verify(asmSlots(twoFrames(264, 256), MAPS), { policy: fentry }).accepted).toBe(true);
  });
});
