/**
 * bpf_loop (181): the callback runs in its own frame on the run's budget, sees (index, ctx), and the
 * helper returns the number of calls; flags and nr_loops are checked first, as kernel/bpf/bpf_iter.c does.
 */
import { describe, expect, it } from 'vitest';
import { assembleUbpf } from '../../../bpf/asm/ubpf/index.ts';
import { BPF_MAX_LOOPS } from '../../../bpf/abi/index.ts';
import { kexecHelpers } from '../../../runtime/helpers/index.ts';
import { Vm } from '../../../runtime/vm/index.ts';
import { signed, vmFailure } from './support.ts';

/** main: sum of indices in ctx (a u64 on main's stack); returns calls << 32 | sum. */
const program = (nr: number, stopAt: number, flags = 0): string =>
  [
    'stdw [%r10-8], 0',
    `mov %r1, ${nr}`,
    'lddw_func %r2, 11',
    'mov %r3, %r10',
    'add %r3, -8',
    `mov %r4, ${flags}`,
    'call 181',
    'jslt %r0, 0, +4',
    'lsh %r0, 32',
    'ldxdw %r1, [%r10-8]',
    'or %r0, %r1',
    'exit',
    'exit',
    // the callback, slot 13: *ctx += index; stop (return 1) at index == stopAt
    'ldxdw %r3, [%r2]',
    'add %r3, %r1',
    'stxdw [%r2], %r3',
    'mov %r6, 77',
    'mov %r0, 0',
    `jne %r1, ${stopAt}, +1`,
    'mov %r0, 1',
    'exit',
  ].join('\n');

const run = (text: string, maxInsns?: number): bigint => {
  const vm = new Vm(assembleUbpf(text).insns, { helpers: kexecHelpers(), maxInsns });
  return vm.run().r0;
};

describe('bpf_loop', () => {
  it('calls the callback with (index, ctx) until it returns 1, and returns the number of calls', () => {
    expect(run(program(10, 3))).toBe((4n << 32n) | 6n);
    expect(run(program(5, 99))).toBe((5n << 32n) | 10n);
    expect(run(program(0, 0))).toBe(0n);
  });

  it('keeps the caller registers (R6 of main is not the callback R6)', () => {
    const text = program(3, 99)
      .replace('stdw [%r10-8], 0', 'stdw [%r10-8], 0\nmov %r6, 5')
      .replace('or %r0, %r1', 'or %r0, %r6');
    expect(run(text) & 0xffn).toBe(5n);
  });

  it('refuses flags and more than BPF_MAX_LOOPS iterations', () => {
    expect(signed(run(program(1, 0, 1)))).toBe(-22);
    expect(signed(run(program(BPF_MAX_LOOPS + 1, 0)))).toBe(-7);
  });

  it('spends the run budget inside the callback', () => {
    const e = vmFailure(() => run(program(100_000, -1), 10_000));
    expect(e.code).toBe('BUDGET_EXCEEDED');
  });

  it('also runs under tracing', () => {
    const vm = new Vm(assembleUbpf(program(4, 99)).insns, { helpers: kexecHelpers() });
    let steps = 0;
    expect(vm.run({ trace: () => steps++ }).r0).toBe((4n << 32n) | 6n);
    expect(steps).toBe(12);
  });
});
