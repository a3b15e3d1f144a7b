/**
 * The assembly stage of the conformance run: every test assembles (and its raw form, where given,
 * decodes to the same bytes), its disassembly assembles back to the same program, and every
 * negative case fails the way upstream expects. Execution is a separate stage; `executionPending`
 * holds its place (reporting each runnable program `pending`) until it exists.
 */
import { AsmError } from '../../bpf/asm/errors.ts';
import { assembleUbpf, disassembleUbpf } from '../../bpf/asm/ubpf/index.ts';
import { decodeSlots, encodeSlots, type Insn, IsaError, sameInsn } from '../../bpf/isa/index.ts';
import { assembleSection, buildProgram, type CorpusCase, decodeBytes } from './corpus.ts';
import { DataFileError } from './data-file.ts';
import { negativeExpectation } from './negative-expectations.ts';
import { resultsFor, type Stage } from './stage.ts';

export const CHECK = {
  parsed: 'parsed',
  assembled: 'assembled',
  rawDecoded: 'raw decoded',
  asmIsRaw: 'asm = raw',
  roundTrip: 'disassembly round-trips',
  executed: 'executed',
  asmRejected: 'assembler error as expected',
  unusedRejected: 'unused field rejected',
  skipped: 'skipped as upstream does',
  assemblesForExecution: 'assembles (fails only when run)',
  known: 'has a known expectation',
} as const;

const NO_EXECUTION = 'no execution stage yet';

const firstDifference = (a: readonly Insn[], b: readonly Insn[]): number => {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined || !sameInsn(x, y)) return i;
  }
  return -1;
};

/** Disassembles and reassembles; returns a problem description or undefined. */
const roundTripProblem = (insns: readonly Insn[]): string | undefined => {
  const text = disassembleUbpf(insns);
  try {
    const again = assembleUbpf(text.join('\n')).insns;
    const at = firstDifference(insns, again);
    return at < 0 ? undefined : `instruction ${at}: '${text[at] ?? ''}' assembles differently`;
  } catch (e) {
    if (e instanceof AsmError) return `disassembly does not assemble: ${e.message}`;
    throw e;
  }
};

/** `unused-<insn>-<field>.data`: the first instruction with that field set to 0. */
const withFieldZeroed = (bytes: Uint8Array, name: string): Uint8Array | undefined => {
  const field = /-(dst|src|offset|imm)\.data$/.exec(name)?.[1];
  if (field === undefined) return undefined;
  const slots = decodeSlots(bytes);
  const first = slots[0];
  if (first === undefined) return undefined;
  slots[0] = { ...first, [field === 'offset' ? 'off' : field]: 0 };
  return encodeSlots(slots);
};

const checkTest = (c: CorpusCase) => {
  const r = resultsFor(c);
  const data = c.data;
  if (data instanceof DataFileError) {
    r.fail(CHECK.parsed, data.message);
    return r.out;
  }
  if (data.skip !== undefined) {
    r.fail(CHECK.parsed, `the reference runner would skip it: ${data.skip}`);
    return r.out;
  }
  let fromAsm: readonly Insn[] | undefined;
  if (data.asm !== undefined) {
    const program = assembleSection(data.asm, c.name);
    if (program instanceof AsmError) r.fail(CHECK.assembled, program.message);
    else {
      r.pass(CHECK.assembled);
      fromAsm = program.insns;
    }
  }
  let fromRaw: readonly Insn[] | undefined;
  if (data.raw !== undefined) {
    const decoded = decodeBytes(data.raw.bytes);
    if (decoded instanceof IsaError) r.fail(CHECK.rawDecoded, decoded.message);
    else {
      r.pass(CHECK.rawDecoded);
      fromRaw = decoded;
    }
  }
  if (fromAsm !== undefined && fromRaw !== undefined) {
    const at = firstDifference(fromAsm, fromRaw);
    r.expect(CHECK.asmIsRaw, at < 0, `instruction ${at} differs between -- asm and -- raw`);
  }
  const program = fromRaw ?? fromAsm;
  if (program !== undefined) {
    const problem = roundTripProblem(program);
    r.expect(CHECK.roundTrip, problem === undefined, problem ?? '');
  }
  return r.out;
};

const checkNegative = (c: CorpusCase) => {
  const r = resultsFor(c);
  const expectation = negativeExpectation(c.name);
  const data = c.data;
  if (expectation === undefined) {
    r.fail(CHECK.known, 'no expectation is recorded for this file (negative-expectations.ts)');
    return r.out;
  }
  if (data instanceof DataFileError) {
    r.fail(CHECK.parsed, data.message);
    return r.out;
  }
  switch (expectation.stage) {
    case 'skip': {
      const build = buildProgram(data, c.name);
      const skipped = data.skip !== undefined || build.kind === 'no-instructions';
      r.expect(CHECK.skipped, skipped, `has instructions (${build.kind})`);
      break;
    }
    case 'assemble': {
      if (data.asm === undefined) {
        r.fail(CHECK.asmRejected, 'no -- asm section');
        break;
      }
      const result = assembleSection(data.asm, c.name);
      if (!(result instanceof AsmError)) {
        r.fail(CHECK.asmRejected, 'assembled without error');
        break;
      }
      const messages = result.diagnostics.map((d) => d.message);
      const wanted = data.error ?? '';
      const matches = messages.some((m) => expectation.message.test(m) && m.includes(wanted));
      const detail = `${result.message} (expected ${expectation.message}${wanted ? ` and '${wanted}'` : ''})`;
      r.add(CHECK.asmRejected, matches ? 'pass' : 'fail', matches ? result.message : detail);
      break;
    }
    case 'decode': {
      if (data.raw === undefined) {
        r.fail(CHECK.unusedRejected, 'no -- raw section');
        break;
      }
      const decoded = decodeBytes(data.raw.bytes);
      if (!(decoded instanceof IsaError)) {
        r.fail(CHECK.unusedRejected, `decoded as: ${disassembleUbpf(decoded).join('; ')}`);
        break;
      }
      // The rejection must be for the field the file names: with it zeroed, the program decodes.
      const fixed = withFieldZeroed(data.raw.bytes, c.name);
      const cause = fixed === undefined ? undefined : decodeBytes(fixed);
      if (cause === undefined) r.fail(CHECK.unusedRejected, 'file name does not say which field is unused');
      else if (cause instanceof IsaError)
        r.fail(CHECK.unusedRejected, `still rejected with the field zeroed: ${cause.message}`);
      else r.pass(CHECK.unusedRejected, decoded.message);
      break;
    }
    case 'execute': {
      const build = buildProgram(data, c.name);
      r.expect(
        CHECK.assemblesForExecution,
        build.kind === 'program',
        build.kind === 'asm-error' ? build.error.message : build.kind,
      );
      break;
    }
  }
  return r.out;
};

export const assemblyStage: Stage = {
  name: 'assembly',
  run: (c) => (c.group === 'tests' ? checkTest(c) : checkNegative(c)),
};

/**
 * Stands in for the execution stage until it exists: every program that should run (each test,
 * and the negative cases that fail only when run) is reported `pending`, never passed.
 */
export const executionPending: Stage = {
  name: 'execution (not implemented)',
  run: (c) => {
    const r = resultsFor(c);
    if (c.data instanceof DataFileError) return r.out;
    if (c.group === 'tests') {
      if (c.data.skip === undefined && buildProgram(c.data, c.name).kind === 'program') {
        r.add(CHECK.executed, 'pending', NO_EXECUTION);
      }
    } else {
      const expectation = negativeExpectation(c.name);
      if (expectation?.stage === 'execute') r.add(CHECK.executed, 'pending', `${NO_EXECUTION}; ${expectation.why}`);
    }
    return r.out;
  },
};
