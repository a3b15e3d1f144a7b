/** Typed errors of the ABI layer; each names the byte offset it concerns. */

export type AbiErrorCode =
  /** fewer bytes than the structure needs */
  'SHORT_BUFFER';

export class AbiError extends Error {
  override readonly name = 'AbiError';
  readonly code: AbiErrorCode;
  readonly offset: number;
  constructor(code: AbiErrorCode, offset: number, detail: string) {
    super(`offset ${offset}: ${detail}`);
    this.code = code;
    this.offset = offset;
  }
}
