/** Typed errors of the instruction layer. Each names the slot index (the kernel's instruction index). */

export type IsaErrorCode =
  /** byte length not a multiple of 8 */
  | 'TRUNCATED'
  /** opcode byte that is no instruction */
  | 'UNKNOWN_OPCODE'
  /** a field the instruction form does not use is not zero, or a discriminator has no form */
  | 'RESERVED_FIELDS'
  /** register number above R10 */
  | 'BAD_REGISTER'
  /** lddw in the last slot, or its second slot is not a plain continuation */
  | 'BAD_LDDW';

export class IsaError extends Error {
  override readonly name = 'IsaError';
  readonly code: IsaErrorCode;
  /** Slot index of the offending instruction. */
  readonly index: number;
  /** The message as the Linux verifier words it, without the index. */
  readonly detail: string;
  constructor(code: IsaErrorCode, index: number, detail: string) {
    super(`insn ${index}: ${detail}`);
    this.code = code;
    this.index = index;
    this.detail = detail;
  }
  /** Byte offset of the instruction in its section. */
  get offset(): number {
    return this.index * 8;
  }
}
