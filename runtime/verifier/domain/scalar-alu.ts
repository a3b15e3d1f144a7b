/**
 * Transfer functions of ALU operations on scalars (adjust_scalar_min_max_vals and its per-operation
 * helpers in the Linux verifier), plus the size coercions of loads and sign-extending moves.
 * Each function mutates `dst` in place, as the kernel does; callers pass copies where they must.
 */
import {
  type Bounds,
  BoundsMemo,
  knownBounds,
  mark32Unbounded,
  mark64Unbounded,
  markKnown,
  markKnown32,
  markUnbounded,
  markUnknown,
  S32_MAX,
  S32_MIN,
  S64_MAX,
  S64_MIN,
  s32,
  s64,
  syncBounds,
  U32_MAX,
  U64_MAX,
  u32,
  u64,
  update32Bounds,
  updateBounds,
  zext32To64,
} from './bounds.ts';
import {
  type Tnum,
  tnumAdd,
  tnumAnd,
  tnumArshift,
  tnumCast,
  tnumConst,
  tnumRange,
  TNUM_UNKNOWN,
  tnumIsConst,
  tnumLshift,
  tnumMul,
  tnumNeg,
  tnumOr,
  tnumRshift,
  tnumSub,
  tnumSubreg,
  tnumSubregIsConst,
  tnumXor,
} from './tnum.ts';

export type ScalarOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'sdiv'
  | 'mod'
  | 'smod'
  | 'or'
  | 'and'
  | 'xor'
  | 'lsh'
  | 'rsh'
  | 'arsh';

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** Signed add/sub/mul within `bits`, or undefined on overflow (check_*_overflow). */
const checked = (v: bigint, bits: 32 | 64): bigint | undefined => (BigInt.asIntN(bits, v) === v ? v : undefined);
const checkedU = (v: bigint, bits: 32 | 64): bigint | undefined => (BigInt.asUintN(bits, v) === v ? v : undefined);

/** The whole range of a width: what a bound falls back to when an operation may overflow. */
const S32_RANGE = [S32_MIN, S32_MAX] as const;
const S64_RANGE = [S64_MIN, S64_MAX] as const;
const U32_RANGE = [0n, U32_MAX] as const;
const U64_RANGE = [0n, U64_MAX] as const;

/** [lo, hi] when neither end overflowed (undefined), else the width's whole range. */
const orWhole = (
  lo: bigint | undefined,
  hi: bigint | undefined,
  whole: readonly [bigint, bigint],
): readonly [bigint, bigint] => (lo === undefined || hi === undefined ? whole : [lo, hi]);

const add32 = (d: Bounds, s: Bounds): void => {
  [d.s32min, d.s32max] = orWhole(checked(d.s32min + s.s32min, 32), checked(d.s32max + s.s32max, 32), S32_RANGE);
  [d.u32min, d.u32max] = orWhole(checkedU(d.u32min + s.u32min, 32), checkedU(d.u32max + s.u32max, 32), U32_RANGE);
};

const add64 = (d: Bounds, s: Bounds): void => {
  [d.smin, d.smax] = orWhole(checked(d.smin + s.smin, 64), checked(d.smax + s.smax, 64), S64_RANGE);
  [d.umin, d.umax] = orWhole(checkedU(d.umin + s.umin, 64), checkedU(d.umax + s.umax, 64), U64_RANGE);
};

/** scalar_min_max_add for both widths plus the tnum (also used by linked-register sync). */
export const addBounds = (d: Bounds, s: Bounds): void => {
  add32(d, s);
  add64(d, s);
  d.varOff = tnumAdd(d.varOff, s.varOff);
};

const sub32 = (d: Bounds, s: Bounds): void => {
  [d.s32min, d.s32max] = orWhole(checked(d.s32min - s.s32max, 32), checked(d.s32max - s.s32min, 32), S32_RANGE);
  // Unsigned: wraps below zero exactly when the smallest result would.
  [d.u32min, d.u32max] = d.u32min < s.u32max ? U32_RANGE : [d.u32min - s.u32max, d.u32max - s.u32min];
};

const sub64 = (d: Bounds, s: Bounds): void => {
  [d.smin, d.smax] = orWhole(checked(d.smin - s.smax, 64), checked(d.smax - s.smin, 64), S64_RANGE);
  [d.umin, d.umax] = d.umin < s.umax ? U64_RANGE : [d.umin - s.umax, d.umax - s.umin];
};

/** Products of the four corners, or undefined if one overflows. */
const corners = (a0: bigint, a1: bigint, b0: bigint, b1: bigint, bits: 32 | 64): bigint[] | undefined => {
  const out: bigint[] = [];
  for (const x of [a0, a1]) {
    for (const y of [b0, b1]) {
      const p = checked(x * y, bits);
      if (p === undefined) return undefined;
      out.push(p);
    }
  }
  return out;
};

/** The signed [min, max] over the four corner products, or the whole range if one overflows. */
const cornerRange = (a0: bigint, a1: bigint, b0: bigint, b1: bigint, bits: 32 | 64): readonly [bigint, bigint] => {
  const p = corners(a0, a1, b0, b1, bits);
  if (p === undefined) return bits === 32 ? S32_RANGE : S64_RANGE;
  return [p.reduce(min), p.reduce(max)];
};

const mul32 = (d: Bounds, s: Bounds): void => {
  [d.u32min, d.u32max] = orWhole(checkedU(d.u32min * s.u32min, 32), checkedU(d.u32max * s.u32max, 32), U32_RANGE);
  [d.s32min, d.s32max] = cornerRange(d.s32min, d.s32max, s.s32min, s.s32max, 32);
};

const mul64 = (d: Bounds, s: Bounds): void => {
  [d.umin, d.umax] = orWhole(checkedU(d.umin * s.umin, 64), checkedU(d.umax * s.umax, 64), U64_RANGE);
  [d.smin, d.smax] = cornerRange(d.smin, d.smax, s.smin, s.smax, 64);
};

/** Signed 32-bit bounds from unsigned ones when the u32 range does not cross the sign boundary. */
const s32FromU32 = (d: Bounds): void => {
  if (s32(d.u32min) <= s32(d.u32max)) {
    d.s32min = s32(d.u32min);
    d.s32max = s32(d.u32max);
  } else {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  }
};
const s64FromU64 = (d: Bounds): void => {
  if (s64(d.umin) <= s64(d.umax)) {
    d.smin = s64(d.umin);
    d.smax = s64(d.umax);
  } else {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  }
};

const and32 = (d: Bounds, s: Bounds): void => {
  const t = tnumSubreg(d.varOff);
  if (tnumSubregIsConst(s.varOff) && tnumSubregIsConst(d.varOff)) {
    markKnown32(d, t.value);
    return;
  }
  d.u32min = t.value;
  d.u32max = min(d.u32max, s.u32max);
  s32FromU32(d);
};
const and64 = (d: Bounds, s: Bounds): void => {
  if (tnumIsConst(s.varOff) && tnumIsConst(d.varOff)) {
    markKnown(d, d.varOff.value);
    return;
  }
  d.umin = d.varOff.value;
  d.umax = min(d.umax, s.umax);
  s64FromU64(d);
  updateBounds(d);
};

const or32 = (d: Bounds, s: Bounds): void => {
  const t = tnumSubreg(d.varOff);
  if (tnumSubregIsConst(s.varOff) && tnumSubregIsConst(d.varOff)) {
    markKnown32(d, t.value);
    return;
  }
  d.u32min = max(d.u32min, s.u32min);
  d.u32max = t.value | t.mask;
  s32FromU32(d);
};
const or64 = (d: Bounds, s: Bounds): void => {
  if (tnumIsConst(s.varOff) && tnumIsConst(d.varOff)) {
    markKnown(d, d.varOff.value);
    return;
  }
  d.umin = max(d.umin, s.umin);
  d.umax = d.varOff.value | d.varOff.mask;
  s64FromU64(d);
  updateBounds(d);
};

const xor32 = (d: Bounds, s: Bounds): void => {
  const t = tnumSubreg(d.varOff);
  if (tnumSubregIsConst(s.varOff) && tnumSubregIsConst(d.varOff)) {
    markKnown32(d, t.value);
    return;
  }
  d.u32min = t.value;
  d.u32max = t.value | t.mask;
  s32FromU32(d);
};
const xor64 = (d: Bounds, s: Bounds): void => {
  if (tnumIsConst(s.varOff) && tnumIsConst(d.varOff)) {
    markKnown(d, d.varOff.value);
    return;
  }
  d.umin = d.varOff.value;
  d.umax = d.varOff.value | d.varOff.mask;
  s64FromU64(d);
  updateBounds(d);
};

const lsh32Ranges = (d: Bounds, umin: bigint, umax: bigint): void => {
  d.s32min = S32_MIN;
  d.s32max = S32_MAX;
  if (umax > 31n || d.u32max > 1n << (31n - umax)) {
    d.u32min = 0n;
    d.u32max = U32_MAX;
  } else {
    d.u32min = u32(d.u32min << umin);
    d.u32max = u32(d.u32max << umax);
  }
};

const lsh32 = (d: Bounds, s: Bounds): void => {
  const sub = tnumSubreg(d.varOff);
  lsh32Ranges(d, s.u32min, s.u32max);
  d.varOff = tnumSubreg(tnumLshift(sub, Number(s.u32min)));
  mark64Unbounded(d);
  update32Bounds(d);
};

const lsh64 = (d: Bounds, s: Bounds): void => {
  const umin = s.umin;
  const umax = s.umax;
  // <<32 of a non-negative subregister is the compiler's sign-extension idiom: keep the sign.
  d.smax = umin === 32n && umax === 32n && d.s32max >= 0n ? d.s32max << 32n : S64_MAX;
  d.smin = umin === 32n && umax === 32n && d.s32min >= 0n ? d.s32min << 32n : S64_MIN;
  if (d.umax > 1n << (63n - umax)) {
    d.umin = 0n;
    d.umax = U64_MAX;
  } else {
    d.umin = u64(d.umin << umin);
    d.umax = u64(d.umax << umax);
  }
  lsh32Ranges(d, umin, umax);
  d.varOff = tnumLshift(d.varOff, Number(umin));
  updateBounds(d);
};

const rsh32 = (d: Bounds, s: Bounds): void => {
  const sub = tnumSubreg(d.varOff);
  d.s32min = S32_MIN;
  d.s32max = S32_MAX;
  d.varOff = tnumRshift(sub, Number(s.u32min));
  d.u32min >>= s.u32max;
  d.u32max >>= s.u32min;
  mark64Unbounded(d);
  update32Bounds(d);
};

const rsh64 = (d: Bounds, s: Bounds): void => {
  d.smin = S64_MIN;
  d.smax = S64_MAX;
  d.varOff = tnumRshift(d.varOff, Number(s.umin));
  d.umin >>= s.umax;
  d.umax >>= s.umin;
  mark32Unbounded(d);
  updateBounds(d);
};

const arsh32 = (d: Bounds, s: Bounds): void => {
  const sh = s.u32min;
  d.s32min = s32(d.s32min) >> sh;
  d.s32max = s32(d.s32max) >> sh;
  d.varOff = tnumArshift(tnumSubreg(d.varOff), Number(sh), 32);
  d.u32min = 0n;
  d.u32max = U32_MAX;
  mark64Unbounded(d);
  update32Bounds(d);
};

const arsh64 = (d: Bounds, s: Bounds): void => {
  const sh = s.umin;
  d.smin >>= sh;
  d.smax >>= sh;
  d.varOff = tnumArshift(d.varOff, Number(sh), 64);
  d.umin = 0n;
  d.umax = U64_MAX;
  mark32Unbounded(d);
  updateBounds(d);
};

/** is_safe_to_compute_dst_reg_range: shifts need a constant in-range amount; div/mod are not tracked. */
export const isSafeToCompute = (op: ScalarOp | 'neg' | 'end', s: Bounds, alu32: boolean): boolean => {
  switch (op) {
    case 'add':
    case 'sub':
    case 'and':
    case 'xor':
    case 'or':
    case 'mul':
    case 'neg':
    case 'end':
      return true;
    case 'lsh':
    case 'rsh':
    case 'arsh': {
      const isConst = alu32
        ? tnumSubregIsConst(s.varOff) && s.s32min === s.s32max && s.u32min === s.u32max
        : tnumIsConst(s.varOff) && s.smin === s.smax && s.umin === s.umax;
      return isConst && s.umax < (alu32 ? 32n : 64n);
    }
    default:
      return false;
  }
};

/** Memo tags: an operation and width below 32; with an immediate, 32 * (1 + imm + 2^31) more. */
const OPS: readonly ScalarOp[] = [
  'add',
  'sub',
  'mul',
  'div',
  'sdiv',
  'mod',
  'smod',
  'or',
  'and',
  'xor',
  'lsh',
  'rsh',
  'arsh',
];
const opTag = (op: ScalarOp, alu32: boolean): number => OPS.indexOf(op) * 2 + (alu32 ? 1 : 0);
const IMM_BASE = 2 ** 31;
const aluMemo = new BoundsMemo();

const aluByTag = (d: Bounds, s: Bounds | undefined, tag: number): void => {
  const opw = tag % 32;
  const src = s ?? knownBounds(BigInt(Math.floor(tag / 32) - 1 - IMM_BASE));
  computeScalarAlu(OPS[opw >> 1] as ScalarOp, d, src, (opw & 1) === 1);
};

/**
 * dst = dst op src on scalars, followed by zero-extension (alu32) and bounds sync. A pure function of
 * (op, width, d, src): repeats are answered from the memo (see BoundsMemo).
 */
export const scalarAlu = (op: ScalarOp, d: Bounds, src: Bounds, alu32: boolean): void =>
  aluMemo.apply(opTag(op, alu32), d, src, aluByTag);

/** dst = dst op imm: scalarAlu with the constant source, memoised on the immediate itself. */
export const scalarAluImm = (op: ScalarOp, d: Bounds, imm: number, alu32: boolean): void =>
  aluMemo.apply(32 * (1 + imm + IMM_BASE) + opTag(op, alu32), d, undefined, aluByTag);

/**
 * The transfer itself (scalarAlu and scalarAluImm are this behind a memo); `s` must not alias `d`,
 * and is not written.
 */
export const computeScalarAlu = (op: ScalarOp, d: Bounds, s: Bounds, alu32: boolean): void => {
  if (!isSafeToCompute(op, s, alu32)) {
    markUnknown(d);
    return;
  }
  switch (op) {
    case 'add':
      add32(d, s);
      add64(d, s);
      d.varOff = tnumAdd(d.varOff, s.varOff);
      break;
    case 'sub':
      sub32(d, s);
      sub64(d, s);
      d.varOff = tnumSub(d.varOff, s.varOff);
      break;
    case 'mul':
      d.varOff = tnumMul(d.varOff, s.varOff);
      mul32(d, s);
      mul64(d, s);
      break;
    case 'and':
      d.varOff = tnumAnd(d.varOff, s.varOff);
      and32(d, s);
      and64(d, s);
      break;
    case 'or':
      d.varOff = tnumOr(d.varOff, s.varOff);
      or32(d, s);
      or64(d, s);
      break;
    case 'xor':
      d.varOff = tnumXor(d.varOff, s.varOff);
      xor32(d, s);
      xor64(d, s);
      break;
    case 'lsh':
      if (alu32) lsh32(d, s);
      else lsh64(d, s);
      break;
    case 'rsh':
      if (alu32) rsh32(d, s);
      else rsh64(d, s);
      break;
    case 'arsh':
      if (alu32) arsh32(d, s);
      else arsh64(d, s);
      break;
    default:
      break;
  }
  if (alu32) zext32To64(d);
  syncBounds(d);
};

/** dst = -dst: 0 - dst on both widths. */
export const scalarNeg = (d: Bounds, alu32: boolean): void => {
  const old: Bounds = { ...d };
  markKnown(d, 0n);
  sub32(d, old);
  sub64(d, old);
  d.varOff = tnumNeg(old.varOff);
  if (alu32) zext32To64(d);
  syncBounds(d);
};

const bswapBits = (v: bigint, bytes: number): bigint => {
  let out = 0n;
  for (let i = 0; i < bytes; i++) out = (out << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
  return out;
};

/**
 * Byte-order conversion: a byte swap permutes known bits exactly; a same-order conversion truncates.
 * Ranges are then recomputed from the tnum alone.
 */
export const scalarEnd = (d: Bounds, bits: 16 | 32 | 64, swap: boolean): void => {
  const bytes = bits / 8;
  const t: Tnum = swap
    ? { value: bswapBits(d.varOff.value, bytes), mask: bswapBits(d.varOff.mask, bytes) }
    : tnumCast(d.varOff, bytes);
  if (!(bits === 64 && !swap)) {
    d.varOff = t;
    markUnbounded(d);
  }
  syncBounds(d);
};

const coerceMemo = new BoundsMemo();

/**
 * coerce_reg_to_size: keep the low `size` bytes (zero-extending narrow load). Most narrow loads
 * coerce the same unknown scalar: a pure function of (d, size), memoised.
 */
export const coerceToSize = (d: Bounds, size: number): void =>
  coerceMemo.apply(size, d, undefined, computeCoerceToSize);

const computeCoerceToSize = (d: Bounds, _b: Bounds | undefined, size: number): void => {
  d.varOff = tnumCast(d.varOff, size);
  const mask = (1n << BigInt(size * 8)) - 1n;
  if ((d.umin & ~mask) === (d.umax & ~mask)) {
    d.umin &= mask;
    d.umax &= mask;
  } else {
    d.umin = 0n;
    d.umax = mask;
  }
  d.smin = d.umin;
  d.smax = d.umax;
  // Below 32 bits the sub-register was truncated too: recompute it from the 64-bit view.
  if (size < 4) mark32Unbounded(d);
  syncBounds(d);
};

const sext = (v: bigint, size: number): bigint => BigInt.asIntN(size * 8, v);
const narrowMin = (size: number): bigint => -(1n << BigInt(size * 8 - 1));
const narrowMax = (size: number): bigint => (1n << BigInt(size * 8 - 1)) - 1n;

/** coerce_reg_to_size_sx: sign-extend the low `size` bytes into all 64 bits (ldsx, movsx64). */
export const coerceToSizeSx = (d: Bounds, size: number): void => {
  const bits = BigInt(size * 8);
  if (tnumIsConst(d.varOff)) {
    const v = u64(sext(d.varOff.value, size));
    d.varOff = tnumConst(v);
    d.smin = d.smax = s64(v);
    d.umin = d.umax = v;
    d.s32min = d.s32max = s32(v);
    d.u32min = d.u32max = u32(v);
    return;
  }
  if (u64(d.smax) >> bits === u64(d.smin) >> bits) {
    const a = sext(d.smax, size);
    const b = sext(d.smin, size);
    const hi = max(a, b);
    const lo = min(a, b);
    if (hi >= 0n === lo >= 0n) {
      d.smin = d.s32min = lo;
      d.smax = d.s32max = hi;
      d.umin = u64(lo);
      d.umax = u64(hi);
      d.u32min = u32(lo);
      d.u32max = u32(hi);
      d.varOff = tnumRange(u64(lo), u64(hi));
      return;
    }
  }
  d.smin = d.s32min = narrowMin(size);
  d.smax = d.s32max = narrowMax(size);
  d.umin = d.u32min = 0n;
  d.umax = U64_MAX;
  d.u32max = U32_MAX;
  d.varOff = TNUM_UNKNOWN;
};

/** coerce_subreg_to_size_sx: sign-extend the low `size` bytes into the 32-bit sub-register (movsx32). */
export const coerceSubregToSizeSx = (d: Bounds, size: number): void => {
  const bits = BigInt(size * 8);
  if (tnumIsConst(d.varOff)) {
    const v = u64(sext(u32(d.varOff.value), size));
    d.varOff = tnumConst(v);
    d.s32min = d.s32max = s32(v);
    d.u32min = d.u32max = u32(v);
    return;
  }
  if (u32(d.s32max) >> bits === u32(d.s32min) >> bits) {
    const a = sext(d.s32max, size);
    const b = sext(d.s32min, size);
    const hi = max(a, b);
    const lo = min(a, b);
    if (lo >= 0n === hi >= 0n) {
      d.s32min = lo;
      d.s32max = hi;
      d.u32min = u32(lo);
      d.u32max = u32(hi);
      d.varOff = tnumSubreg(tnumRange(u64(lo), u64(hi)));
      return;
    }
  }
  d.s32min = narrowMin(size);
  d.s32max = narrowMax(size);
  d.u32min = 0n;
  d.u32max = U32_MAX;
  d.varOff = tnumSubreg(TNUM_UNKNOWN);
};

/** A scalar known to equal `imm`. */
export const constScalar = (imm: bigint): Bounds => knownBounds(imm);
