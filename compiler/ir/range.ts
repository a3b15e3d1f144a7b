/**
 * Integer ranges [lo, hi] (inclusive, bigint) and the storage types of the DSL. The frontend proves
 * with them that values fit their types and that view accesses are in bounds.
 */

export interface Range {
  readonly lo: bigint;
  readonly hi: bigint;
}

export type IntTypeName = 'u8' | 'u16' | 'u32' | 'u64' | 'i8' | 'i16' | 'i32' | 'i64';

export interface IntType {
  readonly name: IntTypeName;
  readonly bits: 8 | 16 | 32 | 64;
  readonly signed: boolean;
  /** `bigint` in the DSL (64-bit types) or `number`. */
  readonly big: boolean;
}

export const INT_TYPES: Readonly<Record<IntTypeName, IntType>> = {
  u8: { name: 'u8', bits: 8, signed: false, big: false },
  u16: { name: 'u16', bits: 16, signed: false, big: false },
  u32: { name: 'u32', bits: 32, signed: false, big: false },
  u64: { name: 'u64', bits: 64, signed: false, big: true },
  i8: { name: 'i8', bits: 8, signed: true, big: false },
  i16: { name: 'i16', bits: 16, signed: true, big: false },
  i32: { name: 'i32', bits: 32, signed: true, big: false },
  i64: { name: 'i64', bits: 64, signed: true, big: true },
};

export const isIntTypeName = (s: string): s is IntTypeName => Object.hasOwn(INT_TYPES, s);

export const rangeOf = (t: IntType): Range =>
  t.signed
    ? { lo: -(1n << BigInt(t.bits - 1)), hi: (1n << BigInt(t.bits - 1)) - 1n }
    : { lo: 0n, hi: (1n << BigInt(t.bits)) - 1n };

export const point = (v: bigint): Range => ({ lo: v, hi: v });
export const span = (lo: bigint, hi: bigint): Range => ({ lo, hi });
export const within = (r: Range, outer: Range): boolean => r.lo >= outer.lo && r.hi <= outer.hi;
/** Math.min/max for bigint (Math.* only take numbers). */
// biome-ignore lint/complexity/useMathMinMax: Math.min does not take bigint
export const bmin = (...xs: bigint[]): bigint => xs.reduce((a, b) => (b < a ? b : a));
// biome-ignore lint/complexity/useMathMinMax: Math.max does not take bigint
export const bmax = (...xs: bigint[]): bigint => xs.reduce((a, b) => (b > a ? b : a));

export const union = (a: Range, b: Range): Range => ({ lo: bmin(a.lo, b.lo), hi: bmax(a.hi, b.hi) });
export const isPoint = (r: Range): boolean => r.lo === r.hi;

/** `number` is exact to 2^53; intermediate values of number type must stay inside. */
export const SAFE: Range = { lo: -(2n ** 53n) + 1n, hi: 2n ** 53n - 1n };
export const U32: Range = { lo: 0n, hi: 0xffffffffn };
export const U64: Range = { lo: 0n, hi: 2n ** 64n - 1n };
export const I64: Range = { lo: -(2n ** 63n), hi: 2n ** 63n - 1n };
/** What a 64-bit register holds without ambiguity: as u64 or as i64. */
export const fitsRegister = (r: Range): boolean => within(r, U64) || within(r, I64);

export const addR = (a: Range, b: Range): Range => span(a.lo + b.lo, a.hi + b.hi);
export const subR = (a: Range, b: Range): Range => span(a.lo - b.hi, a.hi - b.lo);
export const mulR = (a: Range, b: Range): Range => {
  const p = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi];
  return span(bmin(...p), bmax(...p));
};
export const negR = (a: Range): Range => span(-a.hi, -a.lo);

/** Smallest 2^k - 1 ≥ v (v ≥ 0). */
export const ones = (v: bigint): bigint => {
  let m = 0n;
  while (m < v) m = (m << 1n) | 1n;
  return m;
};

/** `&` of non-negative ranges: at most the smaller maximum. */
export const andR = (a: Range, b: Range): Range | undefined =>
  a.lo >= 0n && b.lo >= 0n ? span(0n, bmin(a.hi, b.hi)) : undefined;
/** `|`, `^` of non-negative ranges: at most all the bits either may set. */
export const orR = (a: Range, b: Range): Range | undefined =>
  a.lo >= 0n && b.lo >= 0n ? span(0n, ones(bmax(a.hi, b.hi))) : undefined;

export const fmtRange = (r: Range): string => (r.lo === r.hi ? `${r.lo}` : `${r.lo}..${r.hi}`);
