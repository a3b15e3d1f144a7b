/** Typed errors of the decompressors: a code, the format, the input offset concerned, and a one-line message. */

export const DECOMPRESS_ERROR = {
  /** The first two bytes are none of the kernel's compression magics (or the input is shorter than 2 bytes). */
  UNKNOWN_FORMAT: 'UNKNOWN_FORMAT',
  /** The magic is known but this variant of the format cannot be decoded (method, flags, block size). */
  UNSUPPORTED: 'UNSUPPORTED',
  /** The input ends before the compressed stream does. */
  TRUNCATED: 'TRUNCATED',
  /** The stream is malformed or fails an integrity check (CRC, Adler-32, declared sizes). */
  CORRUPT: 'CORRUPT',
  /** Bytes follow the end of the stream and the caller asked for none (`trailing: 'reject'`). */
  TRAILING_DATA: 'TRAILING_DATA',
  /** The output would exceed `maxOutput`. Raised before the bytes are allocated. */
  OUTPUT_LIMIT: 'OUTPUT_LIMIT',
  /** The 4-byte uncompressed-size trailer the kernel's build appends is missing or disagrees with the output. */
  BAD_SIZE_TRAILER: 'BAD_SIZE_TRAILER',
  /** A synchronous call needs a decoder that loads asynchronously (bzip2): await `prepareDecompressors()` first. */
  NOT_READY: 'NOT_READY',
} as const;
export type DecompressErrorCode = (typeof DECOMPRESS_ERROR)[keyof typeof DECOMPRESS_ERROR];

export class DecompressError extends Error {
  override readonly name = 'DecompressError';
  readonly code: DecompressErrorCode;
  /** The format chosen by magic, or undefined when none matched. */
  readonly format: string | undefined;
  /**
   * Byte offset in the input where the problem was found. Where a library reports no position (zlib, bzip2)
   * this is the start of the structure being decoded (the deflate data, the bzip2 stream).
   */
  readonly offset: number;
  readonly detail: string;
  constructor(code: DecompressErrorCode, format: string | undefined, offset: number, detail: string) {
    super(`${format ?? 'decompress'}: ${detail} (at input offset ${offset})`);
    this.code = code;
    this.format = format;
    this.offset = offset;
    this.detail = detail;
  }
}
