/** Typed errors of the kernel image header parsers: a code, the file offset concerned, and a one-line message. */

export const KERNEL_IMAGE_ERROR = {
  /** The file ends before a header field. */
  TRUNCATED: 'TRUNCATED',
  /** A magic value is missing (MZ, zimg, 0xAA55, HdrS, ARM\x64, ELF). */
  BAD_MAGIC: 'BAD_MAGIC',
  /** The zboot compression type string is not NUL-terminated or not one the kernel has used. */
  BAD_COMPRESSION_TYPE: 'BAD_COMPRESSION_TYPE',
  /** A payload (or size trailer) lies outside the file. */
  PAYLOAD_OUT_OF_FILE: 'PAYLOAD_OUT_OF_FILE',
  /** The boot protocol version is too old for the field asked for. */
  OLD_PROTOCOL: 'OLD_PROTOCOL',
  /** A value does not fit its field (builder). */
  FIELD_RANGE: 'FIELD_RANGE',
} as const;
export type KernelImageErrorCode = (typeof KERNEL_IMAGE_ERROR)[keyof typeof KERNEL_IMAGE_ERROR];

export class KernelImageError extends Error {
  override readonly name = 'KernelImageError';
  readonly code: KernelImageErrorCode;
  /** File offset of the offending field. */
  readonly offset: number;
  readonly detail: string;
  constructor(code: KernelImageErrorCode, offset: number, detail: string) {
    super(`kernel image: ${detail} (at file offset 0x${offset.toString(16)})`);
    this.code = code;
    this.offset = offset;
    this.detail = detail;
  }
}

/** Bounds-checked little-endian reads that fail with TRUNCATED naming the field. */
export class LeReader {
  readonly b: Uint8Array;
  private readonly v: DataView;
  constructor(b: Uint8Array) {
    this.b = b;
    this.v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  private need(at: number, n: number, what: string): void {
    if (at < 0 || at + n > this.b.length) {
      throw new KernelImageError(
        KERNEL_IMAGE_ERROR.TRUNCATED,
        at,
        `file ends before ${what} (${n} bytes at 0x${at.toString(16)})`,
      );
    }
  }
  u8(at: number, what: string): number {
    this.need(at, 1, what);
    return this.v.getUint8(at);
  }
  u16(at: number, what: string): number {
    this.need(at, 2, what);
    return this.v.getUint16(at, true);
  }
  u32(at: number, what: string): number {
    this.need(at, 4, what);
    return this.v.getUint32(at, true);
  }
  u64(at: number, what: string): bigint {
    this.need(at, 8, what);
    return this.v.getBigUint64(at, true);
  }
}
