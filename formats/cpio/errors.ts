/** Typed errors of the cpio reader and writer: a code, the byte offset concerned, and a one-line message. */

export const CPIO_ERROR = {
  /** The input ends inside a header, name, data or before the TRAILER!!! entry. */
  TRUNCATED: 'TRUNCATED',
  /** The magic is not 070701/070702. */
  BAD_MAGIC: 'BAD_MAGIC',
  /** An odc archive (070707): the kernel says "incorrect cpio method used: use -H newc option". */
  ODC_FORMAT: 'ODC_FORMAT',
  /** A header field is not 8 hexadecimal digits. */
  BAD_FIELD: 'BAD_FIELD',
  /** A value does not fit its 32-bit field (writer). */
  FIELD_RANGE: 'FIELD_RANGE',
  /** The file type bits of c_mode are none of the seven Unix types. */
  BAD_MODE: 'BAD_MODE',
  /** A name is empty, not NUL-terminated, has a NUL inside, is absolute, has a `..` component, or is too long. */
  BAD_NAME: 'BAD_NAME',
  /** A non-zero size on an entry that cannot have data (directories, devices, FIFOs, sockets). */
  BAD_SIZE: 'BAD_SIZE',
  /** Padding after a name or data is not zero. */
  BAD_PADDING: 'BAD_PADDING',
  /** The 070702 checksum (sum of the data bytes) does not match. */
  BAD_CHECKSUM: 'BAD_CHECKSUM',
  /** An archive in a concatenation starts at an offset that is not a multiple of 4. */
  MISALIGNED: 'MISALIGNED',
} as const;
export type CpioErrorCode = (typeof CPIO_ERROR)[keyof typeof CPIO_ERROR];

export class CpioError extends Error {
  override readonly name = 'CpioError';
  readonly code: CpioErrorCode;
  /** Byte offset of the offending header, field, name or data. */
  readonly offset: number;
  readonly detail: string;
  constructor(code: CpioErrorCode, offset: number, detail: string) {
    super(`cpio: ${detail} (at offset ${offset})`);
    this.code = code;
    this.offset = offset;
    this.detail = detail;
  }
}
