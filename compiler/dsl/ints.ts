/**
 * Integer types of the DSL. Types of 32 bits or fewer are `number`, 64-bit types are `bigint`: both
 * are exact in JavaScript over their whole range, so a DSL expression means in Node exactly what it
 * means in BPF (docs/DSL.md, "Integers"). The compiler proves each value fits the type it is stored
 * in, or asks for one of the wrapping conversions below, which behave the same in both worlds.
 */

export type u8 = number;
export type u16 = number;
export type u32 = number;
export type i8 = number;
export type i16 = number;
export type i32 = number;
export type u64 = bigint;
export type i64 = bigint;
export type bool = boolean;

/** A value the DSL accepts as an integer. */
export type Int = number | bigint;

/** Thrown natively when a conversion gets something that is not an integer (a float, NaN, ...). */
export class NotAnIntegerError extends TypeError {
  readonly code = 'NOT_AN_INTEGER';
}

const big = (x: Int, conv: string): bigint => {
  if (typeof x === 'bigint') return x;
  if (!Number.isSafeInteger(x)) throw new NotAnIntegerError(`${conv}(${x}): not an integer in ±2^53`);
  return BigInt(x);
};

/** Wraps to 8 bits, unsigned: u8(x) = x mod 2^8. */
export const u8 = (x: Int): u8 => Number(BigInt.asUintN(8, big(x, 'u8')));
export const u16 = (x: Int): u16 => Number(BigInt.asUintN(16, big(x, 'u16')));
export const u32 = (x: Int): u32 => Number(BigInt.asUintN(32, big(x, 'u32')));
export const i8 = (x: Int): i8 => Number(BigInt.asIntN(8, big(x, 'i8')));
export const i16 = (x: Int): i16 => Number(BigInt.asIntN(16, big(x, 'i16')));
export const i32 = (x: Int): i32 => Number(BigInt.asIntN(32, big(x, 'i32')));
export const u64 = (x: Int): u64 => BigInt.asUintN(64, big(x, 'u64'));
export const i64 = (x: Int): i64 => BigInt.asIntN(64, big(x, 'i64'));

/**
 * Unsigned division as BPF does it: truncating, and 0 when the divisor is 0. Operands must be
 * non-negative (the compiler proves it).
 */
export function udiv(a: number, b: number): number;
export function udiv(a: bigint, b: bigint): bigint;
export function udiv(a: Int, b: Int): Int {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    const x = big(a, 'udiv');
    const y = big(b, 'udiv');
    return y === 0n ? 0n : x / y;
  }
  return b === 0 ? 0 : Math.floor(a / b);
}

/** Unsigned remainder as BPF does it: the dividend when the divisor is 0. */
export function umod(a: number, b: number): number;
export function umod(a: bigint, b: bigint): bigint;
export function umod(a: Int, b: Int): Int {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    const x = big(a, 'umod');
    const y = big(b, 'umod');
    return y === 0n ? x : x % y;
  }
  return b === 0 ? a : a % b;
}
