/**
 * The whole level-2 verifier log (every instruction, state, branch, prune, mark_precise and
 * propagation line) against the running kernel's, line for line, over the hand-written, conformance
 * and clang programs. Lines only the kernel writes are left out of its log first: the "Live regs
 * before insn" table, the stack-liveness trace (`(0) frame 0 insn 10 +written -48`, `live stack update
 * done`) and the SCC enter/exit lines; map addresses (lddw of a map) are compared as ADDR. Root only.
 */
import { describe, expect, it } from 'vitest';
import { verify } from '../../../runtime/verifier/index.ts';
import { missingBpf } from '../../support/env.ts';
import {
  clangPrograms,
  conformancePrograms,
  type DiffProgram,
  handPrograms,
  kernelLoad,
  ourOptions,
} from './corpus/index.ts';
import { kernelVerify } from './support/kernel.ts';

const KERNEL_ONLY =
  /^(\(\d+(,\d+)?\) frame \d+ insn |\(\d+(,\d+)?\) live stack update|Live regs before insn:|SCC (enter|exit) |[ 0-9]{7}: [.0-9]{10} \()/;
/** Timing lines differ by nature. */
const TIMING = /^(verification time|stack depth) /;
/** `3: (18) r1 = 0xffff8881...   ; R1=map_value(...)`: the kernel prints the map's address. */
const ADDRESS = /^(\d+: \(18\) r\d+ = )0x[0-9a-f]+( +;|$)/;
const BACKTRACK_ADDRESS = /^(mark_precise: .* before \d+: \(18\) r\d+ = )0x[0-9a-f]+$/;
const norm = (l: string): string =>
  l
    .replace(ADDRESS, (_, head: string, tail: string) => `${head}ADDR${tail ? ' ;' : ''}`)
    .replace(BACKTRACK_ADDRESS, '$1ADDR');

const kernelLines = (log: string): string[] =>
  log
    .split('\n')
    .filter((l) => !KERNEL_ONLY.test(l) && !TIMING.test(l))
    .map(norm);
const ourLines = (log: string): string[] =>
  log
    .split('\n')
    .filter((l) => !TIMING.test(l))
    .map(norm);

const sameLog = (p: DiffProgram): boolean => {
  const k = kernelVerify(kernelLoad(p, 2));
  const o = verify(p.slots, ourOptions(p, 2));
  return kernelLines(k.log).join('\n') === ourLines(o.log).join('\n');
};

describe('level-2 verifier log vs the running kernel', () => {
  it('is identical line for line on most programs, and on every precision case', { timeout: 120_000 }, (ctx) => {
    const why = missingBpf();
    if (why) ctx.skip(why);
    const families: [string, DiffProgram[]][] = [
      ['hand', handPrograms()],
      ['conformance', conformancePrograms()],
      ['clang', clangPrograms()],
    ];
    let same = 0;
    let all = 0;
    const precisionDiffers: string[] = [];
    for (const [name, programs] of families) {
      const differ = programs.filter((p) => !sameLog(p));
      same += programs.length - differ.length;
      all += programs.length;
      console.log(
        `${name.padEnd(12)} ${programs.length - differ.length}/${programs.length} identical` +
          (differ.length ? `; differ: ${differ.map((p) => p.name).join(' ')}` : ''),
      );
      for (const p of differ) if (/^(prec|live)_/.test(p.name)) precisionDiffers.push(p.name);
    }
    console.log(`all          ${same}/${all} identical (${((100 * same) / all).toFixed(1)}%)`);
    expect(precisionDiffers).toEqual([]);
    expect(same / all).toBeGreaterThanOrEqual(0.95);
  });
});
