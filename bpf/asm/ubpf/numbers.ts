/**
 * Operand numbers of the conformance/uBPF syntax, with the bpf_conformance assembler's rules:
 * a number containing `0x` is an unsigned bit pattern (a leading `-` negates it modulo 2^64, as
 * `strtoull` does, so `-0x8` is out of range for a 32- or 16-bit field); a decimal number is signed
 * and must fit the field as a signed value. Unlike the reference (which reads a prefix with
 * `stoll`), the whole token must be a number: `12abc` is an error, not 12.
 */

/** A problem with one operand; the assembler turns it into a diagnostic at the operand's column. */
export class OperandFault extends Error {
  override readonly name = 'OperandFault';
}

interface Parsed {
  readonly hex: boolean;
  /** The value as strtoull/strtoll would return it (hex: modulo 2^64; decimal: signed). */
  readonly value: bigint;
}

const NUMBER = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|([0-9]+))$/;
const U64_MAX = (1n << 64n) - 1n;

const parse = (text: string, what: string, rangeMessage: string): Parsed => {
  const m = NUMBER.exec(text);
  if (m === null) throw new OperandFault(`Invalid ${what}: ${text}`);
  const negative = m[1] === '-';
  if (m[2] !== undefined) {
    const magnitude = BigInt(`0x${m[2]}`);
    if (magnitude > U64_MAX) throw new OperandFault(`${rangeMessage}: ${text}`);
    return { hex: true, value: negative ? BigInt.asUintN(64, -magnitude) : magnitude };
  }
  const magnitude = BigInt(m[3] as string);
  return { hex: false, value: negative ? -magnitude : magnitude };
};

/** A field of `bits` bits: hex is a bit pattern up to 2^bits - 1, decimal a signed value. */
const field = (text: string, bits: 16 | 32, what: string, rangeMessage: string): number => {
  const { hex, value } = parse(text, what, rangeMessage);
  const limit = 1n << BigInt(bits);
  const fits = hex ? value < limit : value >= -(limit >> 1n) && value < limit >> 1n;
  if (!fits) throw new OperandFault(`${rangeMessage}: ${text}`);
  return Number(BigInt.asIntN(bits, value));
};

/** A 32-bit immediate, returned as the signed value of its bit pattern. */
export const imm32 = (text: string): number => field(text, 32, 'immediate', 'Immediate out of 32-bit range');

/** A 16-bit offset (memory displacement or jump offset), returned signed. */
export const offset16 = (text: string): number => field(text, 16, 'offset', 'Offset out of 16-bit range');

/**
 * A jump distance carried in the 32-bit imm (ja32, call local). The reference reads `+N`/`-N` here as a
 * 16-bit offset; everything it accepts means the same here, and decimal distances may also use the
 * full signed 32-bit range of the field (so every encodable ja32 can be written).
 */
export const distance32 = (text: string): number => {
  const { hex } = parse(text, 'offset', 'Offset out of 16-bit range');
  return hex ? offset16(text) : field(text, 32, 'offset', 'Offset out of 32-bit range');
};

/** lddw's 64-bit immediate: hex or non-negative decimal up to 2^64 - 1, negative decimal down to -2^63. */
export const imm64 = (text: string): bigint => {
  const rangeMessage = 'Immediate out of 64-bit range';
  const { hex, value } = parse(text, 'immediate', rangeMessage);
  const fits = hex || (value >= -(1n << 63n) && value <= U64_MAX);
  if (!fits) throw new OperandFault(`${rangeMessage}: ${text}`);
  return BigInt.asUintN(64, value);
};
