/** The benchmark programs compute what their TypeScript references compute, in our VM and in the kernel. */
import { describe, expect, it } from 'vitest';
import { assembleUbpf } from '../../../bpf/asm/ubpf/index.ts';
import { BENCH_PROGRAMS } from '../../../bench/vm/programs.ts';
import { runInKernel } from '../../../runtime/linux/index.ts';
import { Vm } from '../../../runtime/vm/index.ts';
import { missingBpf } from '../../support/env.ts';

describe('bench/vm programs', () => {
  for (const p of BENCH_PROGRAMS) {
    it(`${p.name}: interpreter = reference, 10k..500k instructions`, () => {
      const input = p.input();
      const r = new Vm(assembleUbpf(p.source).insns).run({ mem: input.slice() });
      expect(r.r0).toBe(p.expected(input));
      expect(r.insns).toBeGreaterThanOrEqual(10_000);
      expect(r.insns).toBeLessThanOrEqual(500_000);
    });
    it(`${p.name}: kernel = reference`, (ctx) => {
      const why = missingBpf();
      if (why) ctx.skip(why);
      const input = p.input();
      const k = runInKernel(assembleUbpf(p.source).insns, input.slice());
      if (k.kind === 'rejected') throw k.error;
      expect(k.r0).toBe(p.expected(input));
    });
  }
});
