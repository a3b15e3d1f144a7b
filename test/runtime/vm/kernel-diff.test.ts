/**
 * Differential test: our interpreter against the real kernel (BPF_PROG_TEST_RUN through
 * runtime/linux, programs wrapped as described in runtime/linux/wrap.ts). Every program the kernel
 * accepts must give the same 64-bit R0 and leave the same memory. Two corpora: the bpf_conformance
 * tests when their folder is present, and generated straight-line programs (always).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { disassembleUbpf } from '../../../bpf/asm/ubpf/index.ts';
import type { Insn } from '../../../bpf/isa/index.ts';
import { runInKernel } from '../../../runtime/linux/index.ts';
import { Vm } from '../../../runtime/vm/index.ts';
import { conformanceHelpers } from '../../../runtime/vm/plugin.ts';
import { REPO_ROOT } from '../../support/clang.ts';
import { missingBpf } from '../../support/env.ts';
import { buildProgram, loadCorpus } from '../../conformance/corpus.ts';
import { DataFileError } from '../../conformance/data-file.ts';
import { straightLine } from './programs.ts';

const CORPUS = process.env.CONFORMANCE_DIR ?? join(REPO_ROOT, '../shared/conformance');

/** ebpf.md §8: neg followed by and/or with a constant can oops the kernel's verifier; never send it. */
const hasKernelBugPattern = (insns: readonly Insn[]): boolean =>
  insns.some((i) => i.spec.kind === 'neg') &&
  insns.some((i) => i.spec.kind === 'alu' && (i.spec.op === 'and' || i.spec.op === 'or') && i.spec.source === 'K');

const ours = (insns: readonly Insn[], mem: Uint8Array | undefined) => {
  const copy = mem?.slice();
  const r0 = new Vm(insns, { helpers: conformanceHelpers() }).run({ mem: copy }).r0;
  return { r0, mem: copy ?? new Uint8Array(0) };
};

describe('interpreter = kernel (BPF_PROG_TEST_RUN)', () => {
  it('on every bpf_conformance test the kernel accepts', (ctx) => {
    const why = missingBpf() ?? (existsSync(join(CORPUS, 'tests')) ? undefined : `no conformance corpus at ${CORPUS}`);
    if (why) ctx.skip(why);
    let accepted = 0;
    const rejected: string[] = [];
    for (const c of loadCorpus(CORPUS).filter((x) => x.group === 'tests')) {
      if (c.data instanceof DataFileError || c.data.skip !== undefined) continue;
      const build = buildProgram(c.data, c.name);
      if (build.kind !== 'program' || hasKernelBugPattern(build.insns)) continue;
      const kernel = runInKernel(build.insns, c.data.mem);
      if (kernel.kind === 'rejected') {
        rejected.push(c.name);
        continue;
      }
      accepted++;
      const mine = ours(build.insns, c.data.mem);
      expect({ name: c.name, r0: mine.r0, mem: mine.mem }).toEqual({ name: c.name, r0: kernel.r0, mem: kernel.mem });
    }
    // The kernel rejects only what it must: K shifts out of range ("invalid shift") and callx.
    expect(accepted).toBeGreaterThanOrEqual(300);
    expect(
      rejected.every((n) => /-(imm-high|imm-neg)\.data$|^callx\.data$/.test(n)),
      rejected.join(', '),
    ).toBe(true);
  });

  it('on generated straight-line ALU/JMP programs (all accepted by the kernel)', (ctx) => {
    const why = missingBpf();
    if (why) ctx.skip(why);
    fc.assert(
      fc.property(straightLine, (insns) => {
        const kernel = runInKernel(insns, undefined);
        if (kernel.kind === 'rejected') throw new Error(`kernel rejected a generated program: ${kernel.error.log}`);
        expect(ours(insns, undefined).r0, disassembleUbpf(insns).join('; ')).toBe(kernel.r0);
      }),
      { numRuns: 1000 },
    );
  });
});
