/**
 * Integer operators with JavaScript's meaning, lowered to BPF under the register invariant (exact
 * values for `number`, mod 2^64 for `bigint`): constant folding, range propagation, and the choice
 * of 32- or 64-bit ALU operations.
 */
import type ts from 'typescript';
import type { IrAluOp, Loc } from '../ir/ir.ts';
import {
  addR,
  andR,
  I64,
  mulR,
  negR,
  ones,
  orR,
  point,
  type Range,
  span,
  subR,
  U32,
  U64,
  within,
} from '../ir/range.ts';
import type { Cx } from './context.ts';
import type { IntValue, Value } from './values.ts';

const I32: Range = { lo: -(2n ** 31n), hi: 2n ** 31n - 1n };
const NONNEG31: Range = { lo: 0n, hi: 2n ** 31n - 1n };

const int = (range: Range, big: boolean, reg?: number): IntValue =>
  reg === undefined ? { kind: 'int', value: range.lo, range, big } : { kind: 'int', reg, range, big };

export const constInt = (value: bigint, big: boolean): IntValue => ({ kind: 'int', value, range: point(value), big });

/** JS ToInt32 of an exact integer. */
const toInt32 = (v: bigint): bigint => BigInt.asIntN(32, v);

/** Emits dst = a op b. */
export const aluOp = (
  cx: Cx,
  alu: IrAluOp,
  w: 32 | 64,
  a: IntValue,
  b: IntValue,
  range: Range,
  loc: Loc | undefined,
): IntValue => {
  // A result the ranges pin to one value is that constant: the verifier need not follow the proof.
  if (range.lo === range.hi) return constInt(range.lo, a.big);
  const dst = cx.reg();
  cx.emit({ op: 'alu', alu, w, dst, a: cx.toReg(a, loc), b: cx.operand(b, loc), loc });
  if (!untracked(alu, b) || range.lo < 0n || range.hi > 0x7fffffffn)
    return { kind: 'int', reg: dst, range, big: a.big };
  // The verifier does not follow this operation (div, mod, shifts by a register): a mask it does
  // follow, a no-op on the value, gives it the bound the compiler proved (rounded up to 2^k - 1).
  const masked = cx.reg();
  const mask = ones(range.hi);
  cx.emit({ op: 'alu', alu: 'and', w: 64, dst: masked, a: dst, b: { imm: Number(mask) }, loc });
  return { kind: 'int', reg: masked, range: span(0n, mask), big: a.big };
};

/** ALU operations whose result the kernel verifier leaves unbounded (is_safe_to_compute_dst_reg_range). */
const untracked = (alu: IrAluOp, b: IntValue): boolean =>
  alu === 'div' || alu === 'mod' || ((alu === 'lsh' || alu === 'rsh' || alu === 'arsh') && b.reg !== undefined);

/** 64-bit sign extension from `bits`. */
export const signExtend = (cx: Cx, v: IntValue, bits: number, range: Range, loc: Loc | undefined): IntValue => {
  const k = BigInt(64 - bits);
  const shifted = aluOp(cx, 'lsh', 64, v, constInt(k, false), range, loc);
  return aluOp(cx, 'arsh', 64, shifted, constInt(k, false), range, loc);
};

/** Zero extension from 32 bits (mov32). */
export const zeroExtend32 = (cx: Cx, v: IntValue, range: Range, loc: Loc | undefined): IntValue => {
  const dst = cx.reg();
  cx.emit({ op: 'alu', alu: 'or', w: 32, dst, a: cx.toReg(v, loc), b: { imm: 0 }, loc });
  return { kind: 'int', reg: dst, range, big: v.big };
};

const fold = (op: ts.SyntaxKind | string, a: bigint, b: bigint, big: boolean): bigint | undefined => {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '&':
      return big ? a & b : toInt32(toInt32(a) & toInt32(b));
    case '|':
      return big ? a | b : toInt32(toInt32(a) | toInt32(b));
    case '^':
      return big ? a ^ b : toInt32(toInt32(a) ^ toInt32(b));
    case '<<':
      return big ? a << b : toInt32(toInt32(a) << (b & 31n));
    case '>>':
      return big ? a >> b : toInt32(a) >> (b & 31n);
    case '>>>':
      return BigInt.asUintN(32, a) >> (b & 31n);
    case '%':
      return b === 0n ? undefined : a % b;
    case '/':
      return b === 0n ? undefined : a / b;
    default:
      return undefined;
  }
};

/** Lowers `a op b` for integers; `node` locates diagnostics. */
export const binaryInt = (cx: Cx, op: string, a: IntValue, b: IntValue, node: ts.Node, loc: Loc | undefined): Value => {
  const big = a.big;
  if (!big && op === '/') return cx.error('UNSUPPORTED', node, '`/` on number (it makes fractions); use udiv(a, b)');
  if (a.value !== undefined && b.value !== undefined && a.reg === undefined && b.reg === undefined) {
    if (big && (op === '/' || op === '%') && b.value <= 0n)
      return cx.error(
        'RANGE',
        node,
        `the divisor of \`${cx.text(node)}\``,
        `${b.value}`,
        'a positive divisor',
        'udiv(a, b)',
      );
    const v = fold(op, a.value, b.value, big);
    if (v === undefined) return cx.error('UNSUPPORTED', node, `operator ${op} here`);
    const c = constInt(v, big);
    return cx.checkExact(c.range, big, node) ? c : { kind: 'error' };
  }
  const both32 = (r: Range): boolean => within(a.range, U32) && within(b.range, U32) && within(r, U32);
  const ring = (alu: IrAluOp, r: Range): Value => {
    if (!cx.checkExact(r, big, node)) return { kind: 'error' };
    return aluOp(cx, alu, !big && both32(r) ? 32 : 64, a, b, r, loc);
  };
  const shiftCount = (): IntValue | undefined => {
    if (within(b.range, span(0n, big ? 63n : 31n))) return b;
    if (big) {
      cx.error(
        'RANGE',
        node,
        `the shift count of \`${cx.text(node)}\``,
        `${b.range.lo}..${b.range.hi}`,
        '0..63',
        'x & 63n',
      );
      return undefined;
    }
    return aluOp(cx, 'and', 64, b, constInt(31n, false), span(0n, 31n), loc);
  };
  switch (op) {
    case '+': {
      const r = ring('add', addR(a.range, b.range));
      // remember `x + k`: a view access at it can use k as the instruction's offset
      const [x, k] = b.reg === undefined ? [a, b.value] : a.reg === undefined ? [b, a.value] : [a, undefined];
      if (r.kind !== 'int' || r.reg === undefined || k === undefined || k < 0n || k > 0x7fffn || x.reg === undefined)
        return r;
      return { ...r, sum: { x, k: Number(k) } };
    }
    case '-':
      return ring('sub', subR(a.range, b.range));
    case '*':
      return ring('mul', mulR(a.range, b.range));
    case '&':
    case '|':
    case '^': {
      const alu = op === '&' ? 'and' : op === '|' ? 'or' : 'xor';
      if (big) {
        const r =
          (op === '&' ? andR(a.range, b.range) : orR(a.range, b.range)) ??
          (within(a.range, I64) && within(b.range, I64) ? I64 : span(-(2n ** 64n), 2n ** 64n));
        return aluOp(cx, alu, 64, a, b, r, loc);
      }
      if (within(a.range, NONNEG31) && within(b.range, NONNEG31)) {
        return aluOp(cx, alu, 32, a, b, (op === '&' ? andR(a.range, b.range) : orR(a.range, b.range)) as Range, loc);
      }
      if (within(a.range, I32) && within(b.range, I32)) {
        // sign-extended operands give a sign-extended result; `& k` with k ≥ 0 is non-negative
        const r =
          op === '&' && (a.range.lo >= 0n || b.range.lo >= 0n)
            ? span(0n, a.range.lo >= 0n ? a.range.hi : b.range.hi)
            : I32;
        return aluOp(cx, alu, 64, a, b, r, loc);
      }
      // ToInt32 wraps: operate on the low 32 bits, then reinterpret bit 31 as the sign
      const masked = op === '&' && (within(a.range, NONNEG31) || within(b.range, NONNEG31));
      const r32 = aluOp(
        cx,
        alu,
        32,
        a,
        b,
        masked ? span(0n, within(a.range, NONNEG31) ? a.range.hi : b.range.hi) : U32,
        loc,
      );
      return masked ? r32 : signExtend(cx, r32, 32, I32, loc);
    }
    case '<<': {
      const n = shiftCount();
      if (n === undefined) return { kind: 'error' };
      if (big)
        return aluOp(
          cx,
          'lsh',
          64,
          a,
          n,
          span(
            a.range.lo < 0n ? a.range.lo << n.range.hi : a.range.lo << n.range.lo,
            a.range.hi < 0n ? a.range.hi << n.range.lo : a.range.hi << n.range.hi,
          ),
          loc,
        );
      const exact = span(a.range.lo << n.range.hi, a.range.hi << n.range.hi);
      if (a.range.lo >= 0n && within(exact, NONNEG31))
        return aluOp(cx, 'lsh', 32, a, n, span(a.range.lo << n.range.lo, exact.hi), loc);
      return signExtend(cx, aluOp(cx, 'lsh', 32, a, n, U32, loc), 32, I32, loc);
    }
    case '>>': {
      const n = shiftCount();
      if (n === undefined) return { kind: 'error' };
      if (big) {
        if (!cx.checkRegister(a, node)) return { kind: 'error' };
        const r = span(
          a.range.lo >> (a.range.lo < 0n ? n.range.lo : n.range.hi),
          a.range.hi >> (a.range.hi < 0n ? n.range.hi : n.range.lo),
        );
        return aluOp(cx, within(a.range, I64) ? 'arsh' : 'rsh', 64, a, n, r, loc);
      }
      const src = within(a.range, I32)
        ? a
        : signExtend(cx, a.range.lo >= 0n && within(a.range, U32) ? a : zeroExtend32(cx, a, U32, loc), 32, I32, loc);
      const ar = src.range;
      const r = span(ar.lo >> (ar.lo < 0n ? n.range.lo : n.range.hi), ar.hi >> (ar.hi < 0n ? n.range.hi : n.range.lo));
      return aluOp(cx, ar.lo >= 0n ? 'rsh' : 'arsh', 64, src, n, r, loc);
    }
    case '>>>': {
      const n = shiftCount();
      if (n === undefined) return { kind: 'error' };
      const ar = within(a.range, U32) ? a.range : U32;
      return aluOp(cx, 'rsh', 32, a, n, span(ar.lo >> n.range.hi, ar.hi >> n.range.lo), loc);
    }
    case '%':
    case '/': {
      if (a.range.lo < 0n || b.range.lo < 1n || !within(a.range, U64)) {
        return cx.error(
          'RANGE',
          node,
          `\`${cx.text(node)}\``,
          `${a.range.lo}..${a.range.hi} ${op} ${b.range.lo}..${b.range.hi}`,
          'a non-negative dividend and positive divisor',
          op === '/' ? 'udiv(a, b)' : 'umod(a, b)',
        );
      }
      return udivmod(cx, op === '/' ? 'div' : 'mod', a, b, loc);
    }
    default:
      return cx.error('UNSUPPORTED', node, `operator ${op}`);
  }
};

/** BPF unsigned division/modulo of non-negative operands (udiv/umod and bigint `/` `%`). */
export const udivmod = (cx: Cx, alu: 'div' | 'mod', a: IntValue, b: IntValue, loc: Loc | undefined): IntValue => {
  if (a.reg === undefined && b.reg === undefined && a.value !== undefined && b.value !== undefined) {
    const v = b.value === 0n ? (alu === 'div' ? 0n : a.value) : alu === 'div' ? a.value / b.value : a.value % b.value;
    return constInt(v, a.big);
  }
  // a constant 0 divisor: the verifier refuses the instruction, the result is known (x / 0 = 0, x % 0 = x)
  if (b.reg === undefined && b.value === 0n) return alu === 'div' ? constInt(0n, a.big) : a;
  const r =
    alu === 'div'
      ? span(0n, a.range.hi)
      : // x % 0 = x: the divisor bounds the result only when it cannot be 0
        span(0n, b.range.lo >= 1n && b.range.hi - 1n < a.range.hi ? b.range.hi - 1n : a.range.hi);
  const w = within(a.range, U32) && within(b.range, U32) ? 32 : 64;
  return aluOp(cx, alu, w, a, b, r, loc);
};

export const negate = (cx: Cx, a: IntValue, node: ts.Node, loc: Loc | undefined): Value => {
  if (a.reg === undefined && a.value !== undefined) return constInt(-a.value, a.big);
  const r = negR(a.range);
  if (!cx.checkExact(r, a.big, node)) return { kind: 'error' };
  const dst = cx.reg();
  cx.emit({ op: 'neg', dst, a: cx.toReg(a, loc), loc });
  return { kind: 'int', reg: dst, range: r, big: a.big };
};

export const bitNot = (cx: Cx, a: IntValue, loc: Loc | undefined): Value => {
  if (a.reg === undefined && a.value !== undefined) return constInt(a.big ? ~a.value : ~toInt32(a.value), a.big);
  const src = a.big || within(a.range, I32) ? a : signExtend(cx, a, 32, I32, loc);
  const r = a.big ? (within(a.range, I64) ? span(~a.range.hi, ~a.range.lo) : U64) : span(~src.range.hi, ~src.range.lo);
  return aluOp(cx, 'xor', 64, src, constInt(-1n, a.big), r, loc);
};

export { int };
