/**
 * Number operands of the pseudo-C syntax: decimal or 0x-hex, optionally negated, checked against the
 * range of the field they go into. LLVM prints signed decimals; hex is accepted for hand-written text.
 */

export interface Range {
  readonly min: bigint;
  readonly max: bigint;
  readonly what: string;
}

/** A signed 16-bit field (memory and jump offsets). */
export const S16: Range = { min: -(1n << 15n), max: (1n << 15n) - 1n, what: 'a signed 16-bit offset' };
/** A 32-bit field that the machine sign-extends to 64 bits (ALU64, JMP immediates, u64 stores). */
export const S32: Range = { min: -(1n << 31n), max: (1n << 31n) - 1n, what: 'a sign-extended 32-bit immediate' };
/** A 32-bit field used as 32 bits: any signed or unsigned 32-bit value. */
export const B32: Range = { min: -(1n << 31n), max: (1n << 32n) - 1n, what: 'a 32-bit immediate' };
/** lddw's 64-bit value: any signed or unsigned 64-bit value. */
export const B64: Range = { min: -(1n << 63n), max: (1n << 64n) - 1n, what: 'a 64-bit immediate' };

const DIGITS = /^(?:0[xX][0-9a-fA-F]+|[0-9]+)$/;

/** The value of a number token's text (no sign), or undefined when it is not a number. */
export const parseMagnitude = (text: string): bigint | undefined => (DIGITS.test(text) ? BigInt(text) : undefined);

/** Whether a value fits; the caller reports `value` out of `range.what`. */
export const fits = (value: bigint, range: Range): boolean => value >= range.min && value <= range.max;

/** The field's stored value: a 32-bit (or 16-bit) pattern as a signed number. */
export const toSigned = (value: bigint, bits: 16 | 32): number => Number(BigInt.asIntN(bits, value));
