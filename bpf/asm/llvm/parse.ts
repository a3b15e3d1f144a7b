/**
 * Parses one statement of the LLVM pseudo-C syntax into an instruction form plus, where the operand
 * is a name, what the assembler still has to resolve (a jump label, a called function, a symbol
 * address). Everything llvm-objdump prints is accepted, plus the lossless spellings of print.ts.
 */
import { type AtomicName, type InsnFields, LdImmSrc, OPCODES, type OpSpec, spec as specOf } from '../../isa/index.ts';
import type { Token } from './lexer.ts';
import { B32, B64, fits, parseMagnitude, type Range, S16, S32, toSigned } from './numbers.ts';
import { ALU_OPERATOR, ATOMIC_OPERATOR, COND_OPERATOR, invert, sizeOfType } from './syntax.ts';

/** A statement: one instruction, with its unresolved name operand if any. */
export interface Statement {
  readonly spec: OpSpec;
  readonly fields: InsnFields;
  /** A jump to a label: the field (`off`, or `imm` for gotol) gets the distance. */
  readonly jump?: { readonly label: string; readonly col: number; readonly field: 'off' | 'imm' };
  /** `call name`: a local call if `name` is a label here, else a symbol reference. */
  readonly callee?: { readonly name: string; readonly col: number };
  /** `rN = name ll`: the address of a symbol. */
  readonly address?: { readonly name: string; readonly col: number };
}

/** A syntax error at a column; the assembler turns it into a diagnostic. */
export class ParseFault extends Error {
  override readonly name = 'ParseFault';
  readonly col: number;
  constructor(col: number, message: string) {
    super(message);
    this.col = col;
  }
}

const ALU_BY_OPERATOR = invert(ALU_OPERATOR);
const COND_BY_OPERATOR = invert(COND_OPERATOR);
const ATOMIC_BY_OPERATOR = invert(ATOMIC_OPERATOR);
const SIZE_SUFFIX = { 1: 'b', 2: 'h', 4: 'w', 8: 'dw' } as const;
const FETCH = /^atomic_fetch_(add|and|or|xor)$/;
const END = /^(le|be|bswap)(16|32|64)$/;

interface Reg {
  readonly n: number;
  readonly wide: boolean;
  readonly col: number;
}

const regOf = (t: Token | undefined): Reg | undefined => {
  if (t?.kind !== 'ident') return undefined;
  const m = /^([rw])(10|[0-9])$/.exec(t.text);
  return m === null ? undefined : { n: Number(m[2]), wide: m[1] === 'r', col: t.col };
};

/** True for names that would read as a register. */
export const isRegisterName = (name: string): boolean => /^[rw](10|[0-9])$/.test(name);

class Cursor {
  private pos = 0;
  private readonly tokens: readonly Token[];
  private readonly endCol: number;
  constructor(tokens: readonly Token[], endCol: number) {
    this.tokens = tokens;
    this.endCol = endCol;
  }

  peek(ahead = 0): Token | undefined {
    return this.tokens[this.pos + ahead];
  }
  col(): number {
    return this.peek()?.col ?? this.endCol;
  }
  next(): Token | undefined {
    const t = this.tokens[this.pos];
    if (t !== undefined) this.pos++;
    return t;
  }
  fail(message: string, col = this.col()): never {
    throw new ParseFault(col, message);
  }
  is(text: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t !== undefined && t.kind !== 'num' && t.text === text;
  }
  eat(text: string): boolean {
    if (!this.is(text)) return false;
    this.pos++;
    return true;
  }
  expect(text: string): void {
    if (!this.eat(text)) this.fail(`expected '${text}'${this.describe()}`);
  }
  describe(): string {
    const t = this.peek();
    return t === undefined ? ' at end of line' : `, found '${t.text}'`;
  }
  end(): void {
    if (this.peek() !== undefined) this.fail(`unexpected '${this.peek()?.text}' after the instruction`);
  }

  reg(wide?: boolean): Reg {
    const r = regOf(this.peek());
    if (r === undefined) this.fail(`expected a register${this.describe()}`);
    if (wide !== undefined && r.wide !== wide) this.fail(`expected ${wide ? 'a 64-bit rN' : 'a 32-bit wN'} register`);
    this.pos++;
    return r;
  }

  /** A signed number: [+|-] digits. */
  number(range: Range): bigint {
    const col = this.col();
    const negative = this.eat('-');
    if (!negative) this.eat('+');
    const t = this.next();
    const magnitude = t?.kind === 'num' ? parseMagnitude(t.text) : undefined;
    if (magnitude === undefined) this.fail(`expected a number${t ? `, found '${t.text}'` : ' at end of line'}`, col);
    const value = negative ? -magnitude : magnitude;
    if (!fits(value, range)) this.fail(`${value} does not fit ${range.what}`, col);
    return value;
  }
  isNumber(): boolean {
    const t = this.peek();
    const u = this.is('-') || this.is('+') ? this.peek(1) : t;
    return u?.kind === 'num';
  }
  ident(): Token | undefined {
    const t = this.peek();
    return t?.kind === 'ident' ? t : undefined;
  }

  /** `(uN *)` or `(sN *)` after the opening `*`. */
  type(): { size: 1 | 2 | 4 | 8; signed: boolean; col: number } {
    this.expect('(');
    const t = this.next();
    const ty = t?.kind === 'ident' ? sizeOfType(t.text) : undefined;
    if (ty === undefined) this.fail(`expected u8, u16, u32, u64, s8, s16 or s32`, t?.col);
    this.expect('*');
    this.expect(')');
    return { ...ty, col: t?.col ?? 0 };
  }
  /** `rN + off` / `rN - off` (the offset may be left out). */
  address(): { base: number; off: number } {
    const base = this.reg(true).n;
    if (!this.is('+') && !this.is('-')) return { base, off: 0 };
    const col = this.col();
    const negative = this.next()?.text === '-';
    const t = this.next();
    const magnitude = t?.kind === 'num' ? parseMagnitude(t.text) : undefined;
    if (magnitude === undefined) this.fail('expected an offset', t?.col ?? col);
    const value = negative ? -magnitude : magnitude;
    if (!fits(value, S16)) this.fail(`${value} does not fit ${S16.what}`, col);
    return { base, off: Number(value) };
  }
  /** `(rN + off)` */
  parenAddress(): { base: number; off: number } {
    this.expect('(');
    const a = this.address();
    this.expect(')');
    return a;
  }
}

const named = (name: string, source?: 'K' | 'X'): OpSpec => specOf(name, source);
const aluName = (op: string, wide: boolean): string => `${op}${wide ? '' : '32'}`;

/** A jump target: `+N`, `-N`, `N` (a distance) or a label. */
const target = (c: Cursor, field: 'off' | 'imm', fields: InsnFields): Statement['jump'] => {
  const t = c.peek();
  if (t?.kind === 'ident' && !isRegisterName(t.text)) {
    c.next();
    return { label: t.text, col: t.col, field };
  }
  fields[field] = toSigned(c.number(field === 'off' ? S16 : S32), field === 'off' ? 16 : 32);
  return undefined;
};

const parseJumpIf = (c: Cursor): Statement => {
  const dst = c.reg();
  const opTok = c.next();
  const cond = opTok === undefined ? undefined : COND_BY_OPERATOR.get(opTok.text);
  if (cond === undefined) c.fail(`expected a comparison operator`, opTok?.col);
  const fields: InsnFields = { dst: dst.n };
  let source: 'K' | 'X';
  if (regOf(c.peek()) !== undefined) {
    fields.src = c.reg(dst.wide).n;
    source = 'X';
  } else {
    fields.imm = toSigned(c.number(dst.wide ? S32 : B32), 32);
    source = 'K';
  }
  c.expect('goto');
  const jump = target(c, 'off', fields);
  c.end();
  return { spec: named(aluName(cond, dst.wide), source), fields, ...(jump && { jump }) };
};

const parseCall = (c: Cursor): Statement => {
  if (c.is('pc') && (c.is('+', 1) || c.is('-', 1))) {
    c.next();
    const imm = toSigned(c.number(S32), 32);
    c.end();
    return { spec: named('call_local'), fields: { src: 1, imm } };
  }
  if (c.is('kfunc') && c.peek(1) !== undefined) {
    c.next();
    const imm = toSigned(c.number(B32), 32);
    const off = c.eat(',') ? toSigned(c.number(S16), 16) : 0;
    c.end();
    return { spec: named('call_kfunc'), fields: { src: 2, imm, off } };
  }
  const t = c.ident();
  if (t !== undefined) {
    c.next();
    c.end();
    return { spec: named('call_local'), fields: { src: 1, imm: -1 }, callee: { name: t.text, col: t.col } };
  }
  const imm = toSigned(c.number(B32), 32);
  c.end();
  return { spec: named('call'), fields: { imm } };
};

const parseAtomic = (c: Cursor): Statement => {
  c.expect('*');
  const { size, signed, col } = c.type();
  if (signed || (size !== 4 && size !== 8)) c.fail('atomic operations take u32 or u64', col);
  const { base, off } = c.parenAddress();
  const opTok = c.next();
  const op = opTok === undefined ? undefined : ATOMIC_BY_OPERATOR.get(opTok.text);
  if (op === undefined) c.fail(`expected +=, |=, &= or ^=`, opTok?.col);
  // LLVM 14 prints the 32-bit add's value register as rN, newer LLVM as wN: both mean the same.
  const val = c.reg(size === 8 ? true : undefined);
  c.end();
  return { spec: named(`lock_${op}${size === 4 ? '32' : ''}`), fields: { dst: base, src: val.n, off } };
};

const parseLdPseudo = (c: Cursor): Statement => {
  const dst = c.reg(true);
  c.expect(',');
  const src = Number(c.number({ min: 1n, max: BigInt(LdImmSrc.MAP_IDX_VALUE), what: 'a pseudo source 1..6' }));
  c.expect(',');
  const imm = toSigned(c.number(B32), 32);
  const imm2 = c.eat(',') ? toSigned(c.number(B32), 32) : 0;
  c.end();
  return { spec: lddwSpec(src), fields: { dst: dst.n, src, imm, imm2 } };
};

/** The lddw row for a pseudo source. */
const lddwSpec = (src: number): OpSpec => {
  const found = OPCODES.find((s) => s.kind === 'lddw' && s.match?.value === src);
  if (found === undefined) throw new Error(`no lddw row for source ${src}`);
  return found;
};

const parseStore = (c: Cursor): Statement => {
  const { size, signed, col } = c.type();
  if (signed) c.fail('stores take u8, u16, u32 or u64', col);
  const { base, off } = c.parenAddress();
  c.expect('=');
  const suffix = SIZE_SUFFIX[size];
  if (regOf(c.peek()) !== undefined) {
    const src = c.reg(size === 8 ? true : undefined);
    c.end();
    return { spec: named(`stx${suffix}`), fields: { dst: base, src: src.n, off } };
  }
  const imm = toSigned(c.number(size === 8 ? S32 : B32), 32);
  c.end();
  return { spec: named(`st${suffix}`), fields: { dst: base, off, imm } };
};

/** `rN = *(...)...`: memory or legacy packet load. */
const parseLoad = (c: Cursor, dst: Reg): Statement => {
  const { size, signed, col } = c.type();
  if (c.eat('skb')) {
    if (dst.n !== 0 || !dst.wide) c.fail('packet loads write r0', dst.col);
    if (signed || size === 8) c.fail('packet loads take u8, u16 or u32', col);
    c.expect('[');
    const suffix = SIZE_SUFFIX[size];
    if (regOf(c.peek()) !== undefined) {
      const src = c.reg(true).n;
      let imm = 0;
      if (c.is('+') || c.is('-')) {
        const negative = c.next()?.text === '-';
        const v = c.number(B32);
        imm = toSigned(negative ? -v : v, 32);
      }
      c.expect(']');
      c.end();
      return { spec: named(`ldind${suffix}`), fields: { src, imm } };
    }
    const imm = toSigned(c.number(B32), 32);
    c.expect(']');
    c.end();
    return { spec: named(`ldabs${suffix}`), fields: { imm } };
  }
  const { base, off } = c.parenAddress();
  c.end();
  if (size === 8 && !dst.wide) c.fail('a 64-bit load needs an rN register', dst.col);
  if (signed && !dst.wide) c.fail('a sign-extending load writes an rN register', dst.col);
  return { spec: named(`ldx${signed ? 's' : ''}${SIZE_SUFFIX[size]}`), fields: { dst: dst.n, src: base, off } };
};

/** `rN = name(...)`: the atomic forms written as calls. */
const parseAtomicCall = (c: Cursor, dst: Reg, fn: Token): Statement => {
  c.next();
  c.expect('(');
  const fetch = FETCH.exec(fn.text);
  let op: AtomicName;
  let base: number;
  let off: number;
  let val: Reg;
  let wide: boolean;
  if (fetch !== null) {
    op = `fetch_${fetch[1]}` as AtomicName;
    const { size, signed, col } = c.type();
    if (signed || (size !== 4 && size !== 8)) c.fail('atomic operations take u32 or u64', col);
    wide = size === 8;
    ({ base, off } = c.parenAddress());
    c.expect(',');
    val = c.reg(wide);
  } else if (fn.text === 'xchg_64' || fn.text === 'xchg32_32') {
    op = 'xchg';
    wide = fn.text === 'xchg_64';
    ({ base, off } = c.address());
    c.expect(',');
    val = c.reg(wide);
  } else {
    op = 'cmpxchg';
    wide = fn.text === 'cmpxchg_64';
    ({ base, off } = c.address());
    c.expect(',');
    const r0 = c.reg(wide);
    if (r0.n !== 0) c.fail('cmpxchg compares with r0', r0.col);
    c.expect(',');
    val = c.reg(wide);
  }
  c.expect(')');
  c.end();
  if (dst.wide !== wide) c.fail(`expected ${wide ? 'an rN' : 'a wN'} register`, dst.col);
  if (op === 'cmpxchg' ? dst.n !== 0 : dst.n !== val.n) {
    c.fail(op === 'cmpxchg' ? 'cmpxchg writes r0' : 'the result register must be the value register', dst.col);
  }
  return { spec: named(`lock_${op}${wide ? '' : '32'}`), fields: { dst: base, src: val.n, off } };
};

/** `rN = ...` */
const parseAssign = (c: Cursor, dst: Reg): Statement => {
  const t = c.peek();
  // neg: rN = -rN
  if (c.is('-') && regOf(c.peek(1)) !== undefined) {
    c.next();
    const src = c.reg(dst.wide);
    if (src.n !== dst.n) c.fail('negation is in place: write rN = -rN', src.col);
    c.end();
    return { spec: named(dst.wide ? 'neg' : 'neg32'), fields: { dst: dst.n } };
  }
  if (regOf(t) !== undefined) {
    const src = c.reg(dst.wide);
    c.end();
    return { spec: named(aluName('mov', dst.wide), 'X'), fields: { dst: dst.n, src: src.n } };
  }
  // movsx: rN = (s8)rM
  if (c.is('(')) {
    c.next();
    const ty = c.next();
    const bits = ty?.kind === 'ident' ? /^s(8|16|32)$/.exec(ty.text)?.[1] : undefined;
    if (bits === undefined) c.fail('expected (s8), (s16) or (s32)', ty?.col);
    c.expect(')');
    const src = c.reg(dst.wide);
    c.end();
    if (!dst.wide && bits === '32') c.fail('a 32-bit move sign-extends from s8 or s16 only', ty?.col);
    return { spec: named(`movsx${bits}${dst.wide ? '64' : '32'}`), fields: { dst: dst.n, src: src.n } };
  }
  if (c.eat('*')) return parseLoad(c, dst);
  if (t?.kind === 'ident') {
    const end = END.exec(t.text);
    if (end !== null) {
      c.next();
      const src = c.reg();
      if (src.n !== dst.n) c.fail('byte swaps are in place: write rN = be16 rN', src.col);
      c.end();
      return { spec: named(`${end[1]}${end[2]}`), fields: { dst: dst.n } };
    }
    if (FETCH.test(t.text) || /^(xchg_64|xchg32_32|cmpxchg_64|cmpxchg32_32)$/.test(t.text)) {
      return parseAtomicCall(c, dst, t);
    }
    // rN = name ll
    c.next();
    if (!c.eat('ll')) c.fail(`expected 'll' after the symbol name (a 64-bit address load)`);
    c.end();
    if (!dst.wide) c.fail('a 64-bit immediate load needs an rN register', dst.col);
    return { spec: named('lddw'), fields: { dst: dst.n }, address: { name: t.text, col: t.col } };
  }
  const col = c.col();
  const value = c.number(B64);
  if (c.eat('ll')) {
    c.end();
    if (!dst.wide) c.fail('a 64-bit immediate load needs an rN register', dst.col);
    const v = BigInt.asUintN(64, value);
    return {
      spec: named('lddw'),
      fields: { dst: dst.n, imm: toSigned(v & 0xffffffffn, 32), imm2: toSigned(v >> 32n, 32) },
    };
  }
  c.end();
  const range = dst.wide ? S32 : B32;
  if (!fits(value, range)) c.fail(`${value} does not fit ${range.what}${dst.wide ? " (use 'll')" : ''}`, col);
  return { spec: named(aluName('mov', dst.wide), 'K'), fields: { dst: dst.n, imm: toSigned(value, 32) } };
};

/** `rN op= rM|imm` */
const parseAlu = (c: Cursor, dst: Reg, opTok: Token): Statement => {
  const op = ALU_BY_OPERATOR.get(opTok.text);
  if (op === undefined || op === 'mov') c.fail(`unknown operator '${opTok.text}'`, opTok.col);
  if (regOf(c.peek()) !== undefined) {
    const src = c.reg(dst.wide);
    c.end();
    return { spec: named(aluName(op, dst.wide), 'X'), fields: { dst: dst.n, src: src.n } };
  }
  const imm = toSigned(c.number(dst.wide ? S32 : B32), 32);
  c.end();
  return { spec: named(aluName(op, dst.wide), 'K'), fields: { dst: dst.n, imm } };
};

/** Parses the tokens of one statement. Throws ParseFault at the first problem. */
export const parseStatement = (tokens: readonly Token[], endCol: number): Statement => {
  const c = new Cursor(tokens, endCol);
  const first = c.peek();
  if (first === undefined) return c.fail('empty statement');
  if (first.kind === 'ident') {
    switch (first.text) {
      case 'exit':
        c.next();
        c.end();
        return { spec: named('exit'), fields: {} };
      case 'goto':
      case 'gotol': {
        c.next();
        const field = first.text === 'goto' ? 'off' : 'imm';
        const fields: InsnFields = {};
        const jump = target(c, field, fields);
        c.end();
        return { spec: named(first.text === 'goto' ? 'ja' : 'ja32'), fields, ...(jump && { jump }) };
      }
      case 'call':
        c.next();
        return parseCall(c);
      case 'callx': {
        c.next();
        const r = c.reg(true);
        c.end();
        return { spec: named('callx'), fields: { dst: r.n } };
      }
      case 'if':
        c.next();
        return parseJumpIf(c);
      case 'lock':
        c.next();
        return parseAtomic(c);
      case 'ld_pseudo':
        c.next();
        return parseLdPseudo(c);
      default:
        break;
    }
    const dst = regOf(first);
    if (dst !== undefined) {
      c.next();
      const opTok = c.next();
      if (opTok === undefined) return c.fail('expected an operator after the register');
      if (opTok.text === '=') return parseAssign(c, dst);
      return parseAlu(c, dst, opTok);
    }
    return c.fail(`unknown instruction '${first.text}'`, first.col);
  }
  if (c.eat('*')) return parseStore(c);
  return c.fail(`unexpected '${first.text}'`, first.col);
};
