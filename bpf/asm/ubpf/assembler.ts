/**
 * Assembler for the conformance/uBPF syntax (bpf_conformance `bpf_assembler.cc`, the language of the
 * conformance `.data` files). One instruction per line, `label:` definitions, `#`/`;` comments; the
 * first `exit` also defines the label `exit` unless the text defines it explicitly.
 *
 * Every problem of the text is collected and reported at once in an AsmError (line:col each), with
 * the reference assembler's wording. Where this assembler differs from the reference, it accepts
 * less only where the reference would silently produce something else (trailing garbage in numbers,
 * jump distances that overflow 16 bits, instructions that are not rows of the opcode table), and
 * accepts more only where the reference has no spelling (an instruction after a label on the same
 * line, lddw pseudo sources, `call runtime N, off`, legacy `ldabs*`/`ldind*`).
 */

import { type Insn, type InsnFields, makeInsn, type OpSpec } from '../../isa/index.ts';
import { type AsmDiagnostic, AsmError } from '../errors.ts';
import type { AsmProgram } from '../program.ts';
import { type Token, tokenize } from './lexer.ts';
import { ATOMICS, alwaysFetches, CALL_MODES, CALLX, MNEMONICS, type MnemonicRows } from './mnemonics.ts';
import { type LabelRef, LineReader } from './operands.ts';

export interface UbpfAsmOptions {
  /** File name for messages. */
  readonly file?: string;
}

interface Parsed {
  readonly spec: OpSpec;
  readonly fields: InsnFields;
}

interface Pending extends Parsed {
  readonly line: number;
  readonly slot: number;
  readonly ref: LabelRef | undefined;
}

const operandCountError = (r: LineReader, mnemonic: Token): undefined => {
  r.fault(mnemonic.col, `Invalid number of operands for mnemonic: ${mnemonic.text}`);
  return undefined;
};

/** How many operands a plain row takes (lddw pseudo sources take an optional second immediate). */
const operandCounts = (spec: OpSpec): readonly number[] => {
  switch (spec.kind) {
    case 'exit':
      return [0];
    case 'neg':
    case 'end':
    case 'ja':
    case 'ja32':
    case 'ldabs':
      return [1];
    case 'lddw':
      return spec.op === 'imm64' ? [2] : [2, 3];
    case 'jmp':
      return [3];
    default:
      return [2];
  }
};

const splitImm64 = (v: bigint): { imm: number; imm2: number } => ({
  imm: Number(BigInt.asIntN(32, v)),
  imm2: Number(BigInt.asIntN(32, v >> 32n)),
});

/** Picks the K or X row by the source operand (a `%` register or an immediate). */
const bySource = (rows: MnemonicRows, src: Token): OpSpec | undefined =>
  rows.only ?? (LineReader.isRegister(src) ? rows.X : rows.K);

const parsePlain = (r: LineReader, mnemonic: Token, rows: MnemonicRows, ops: readonly Token[]): Parsed | undefined => {
  const first = (rows.only ?? rows.K ?? rows.X) as OpSpec;
  if (!operandCounts(first).includes(ops.length)) return operandCountError(r, mnemonic);
  const [a, b, c] = ops as [Token, Token, Token];
  switch (first.kind) {
    case 'alu': {
      const spec = bySource(rows, b) as OpSpec;
      const dst = r.reg(a);
      return spec.source === 'X'
        ? { spec, fields: { dst, src: r.reg(b) } }
        : { spec, fields: { dst, imm: r.imm32(b) } };
    }
    case 'jmp': {
      const spec = bySource(rows, b) as OpSpec;
      const dst = r.reg(a);
      const value = spec.source === 'X' ? { src: r.reg(b) } : { imm: r.imm32(b) };
      return { spec, fields: { dst, ...value, off: r.target(c, 'off') } };
    }
    case 'neg':
    case 'end':
      return { spec: first, fields: { dst: r.reg(a) } };
    case 'lddw': {
      const dst = r.reg(a);
      if (first.op === 'imm64') return { spec: first, fields: { dst, ...splitImm64(r.imm64(b)) } };
      return { spec: first, fields: { dst, imm: r.imm32(b), imm2: c === undefined ? 0 : r.imm32(c) } };
    }
    case 'ldabs':
      return { spec: first, fields: { imm: r.imm32(a) } };
    case 'ldind':
      return { spec: first, fields: { src: r.reg(a), imm: r.imm32(b) } };
    case 'ldx': {
      const dst = r.reg(a);
      const m = r.mem(b);
      return { spec: first, fields: { dst, src: m.reg, off: m.off } };
    }
    case 'st': {
      const m = r.mem(a);
      return { spec: first, fields: { dst: m.reg, off: m.off, imm: r.imm32(b) } };
    }
    case 'stx': {
      const m = r.mem(a);
      return { spec: first, fields: { dst: m.reg, off: m.off, src: r.reg(b) } };
    }
    case 'ja':
      return { spec: first, fields: { off: r.target(a, 'off') } };
    case 'ja32':
      return { spec: first, fields: { imm: r.target(a, 'imm') } };
    case 'exit':
      return { spec: first, fields: {} };
    default:
      r.fault(mnemonic.col, `Invalid mnemonic: ${mnemonic.text}`);
      return undefined;
  }
};

/** `lock [fetch] <op>[32] [%rD+off], %rS`. */
const parseLock = (r: LineReader, lock: Token, ops: readonly Token[]): Parsed | undefined => {
  const countError = (): undefined => {
    r.fault(lock.col, 'Invalid number of operands for lock');
    return undefined;
  };
  const fetch = ops[0]?.text === 'fetch';
  const opTok = ops[fetch ? 1 : 0];
  if (opTok === undefined) return countError();
  const plain = ATOMICS.get(opTok.text);
  const spec = fetch
    ? (ATOMICS.get(`fetch ${opTok.text}`) ?? (plain && alwaysFetches(plain) ? plain : undefined))
    : plain;
  if (spec === undefined) {
    r.fault(opTok.col, `Invalid mnemonic: lock ${fetch ? 'fetch ' : ''}${opTok.text}`);
    return undefined;
  }
  const rest = ops.slice(fetch ? 2 : 1);
  if (rest.length !== 2) return countError();
  const m = r.mem(rest[0] as Token);
  return { spec, fields: { dst: m.reg, off: m.off, src: r.reg(rest[1] as Token) } };
};

/** `call N`, `call helper N|%rN`, `call %rN`, `call local label|±N`, `call runtime N[, off]`. */
const parseCall = (r: LineReader, call: Token, ops: readonly Token[]): Parsed | undefined => {
  if (ops.length === 0 || ops.length > 3) return operandCountError(r, call);
  const [modeTok, target, extra] = ops.length === 1 ? [undefined, ops[0] as Token, undefined] : ops;
  const mode = modeTok?.text ?? 'helper';
  const spec = CALL_MODES.get(mode);
  if (spec === undefined) {
    r.fault((modeTok as Token).col, `Invalid call mode: ${mode}`);
    return undefined;
  }
  const t = target as Token;
  if (extra !== undefined && spec.op !== 'kfunc') return operandCountError(r, call);
  switch (spec.op) {
    case 'helper':
      return LineReader.isRegister(t)
        ? { spec: CALLX, fields: { dst: r.reg(t) } }
        : { spec, fields: { imm: r.imm32(t) } };
    case 'local':
      return { spec, fields: { imm: r.target(t, 'imm') } };
    default:
      return { spec, fields: { imm: r.imm32(t), off: extra === undefined ? 0 : r.offset16(extra) } };
  }
};

const parseInstruction = (r: LineReader, tokens: readonly Token[]): Parsed | undefined => {
  const [mnemonic, ...ops] = tokens as [Token, ...Token[]];
  if (mnemonic.text === 'lock') return parseLock(r, mnemonic, ops);
  if (mnemonic.text === 'call') return parseCall(r, mnemonic, ops);
  const rows = MNEMONICS.get(mnemonic.text);
  if (rows === undefined) {
    r.fault(mnemonic.col, `Invalid mnemonic: ${mnemonic.text}`);
    return undefined;
  }
  return parsePlain(r, mnemonic, rows, ops);
};

/** Label names: anything an operand could name, except what reads as a number, register or memory. */
const LABEL_NAME = /^[^\s,+\-%[\]#;:]+$/;

interface LabelDef {
  readonly slot: number;
  readonly line: number;
}

/** Assembles conformance/uBPF syntax; throws AsmError listing every problem. */
export const assembleUbpf = (text: string, options: UbpfAsmOptions = {}): AsmProgram => {
  const diagnostics: AsmDiagnostic[] = [];
  const pending: Pending[] = [];
  const labels = new Map<string, LabelDef>();
  let implicitExit: number | undefined;
  let slot = 0;

  text.split('\n').forEach((source, index) => {
    const line = index + 1;
    let tokens = tokenize(source);
    while (tokens[0]?.text.endsWith(':')) {
      const tok = tokens[0];
      const name = tok.text.slice(0, -1);
      const previous = labels.get(name);
      if (!LABEL_NAME.test(name)) {
        diagnostics.push({ line, col: tok.col, message: `Invalid label name: ${tok.text}` });
      } else if (previous !== undefined) {
        diagnostics.push({
          line,
          col: tok.col,
          message: `Duplicate label (${name}) detected (previous declaration at line ${previous.line})`,
        });
      } else {
        labels.set(name, { slot, line });
      }
      tokens = tokens.slice(1);
    }
    if (tokens.length === 0) return;
    const reader = new LineReader(line, diagnostics);
    const parsed = parseInstruction(reader, tokens);
    if (parsed === undefined) {
      // Keep later label positions plausible: count the bad line as one slot.
      slot += 1;
      return;
    }
    if (parsed.spec.kind === 'exit' && implicitExit === undefined) implicitExit = slot;
    pending.push({ ...parsed, line, slot, ref: reader.labelRef });
    slot += parsed.spec.slots;
  });

  if (implicitExit !== undefined && !labels.has('exit')) labels.set('exit', { slot: implicitExit, line: 0 });

  const insns: Insn[] = pending.map((p) => {
    if (p.ref === undefined) return makeInsn(p.spec, p.fields);
    const def = labels.get(p.ref.label);
    if (def === undefined) {
      diagnostics.push({ line: p.ref.line, col: p.ref.col, message: `Invalid label: ${p.ref.label}` });
      return makeInsn(p.spec, p.fields);
    }
    const distance = def.slot - (p.slot + 1);
    if (p.ref.field === 'off' && (distance < -0x8000 || distance > 0x7fff)) {
      diagnostics.push({
        line: p.ref.line,
        col: p.ref.col,
        message: `Jump offset out of 16-bit range: ${p.ref.label} (${distance})`,
      });
    }
    return makeInsn(p.spec, { ...p.fields, [p.ref.field]: distance });
  });

  if (diagnostics.length > 0) {
    diagnostics.sort((a, b) => a.line - b.line || a.col - b.col);
    throw new AsmError(diagnostics, options.file);
  }
  return {
    insns,
    labels: new Map([...labels].map(([name, def]) => [name, def.slot])),
    refs: [],
    lines: pending.map((p) => p.line),
  };
};
