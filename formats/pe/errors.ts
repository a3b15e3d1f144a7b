/** Typed errors of the PE/COFF reader and writer: a code, the file offset concerned, and a one-line message. */

export const PE_ERROR = {
  /** A structure runs past the end of the file. */
  TRUNCATED: 'TRUNCATED',
  BAD_DOS_MAGIC: 'BAD_DOS_MAGIC',
  BAD_E_LFANEW: 'BAD_E_LFANEW',
  BAD_PE_SIGNATURE: 'BAD_PE_SIGNATURE',
  BAD_OPTIONAL_MAGIC: 'BAD_OPTIONAL_MAGIC',
  OPTIONAL_HEADER_TOO_SMALL: 'OPTIONAL_HEADER_TOO_SMALL',
  BAD_DATA_DIRECTORY_COUNT: 'BAD_DATA_DIRECTORY_COUNT',
  BAD_ALIGNMENT: 'BAD_ALIGNMENT',
  /** SizeOfHeaders is smaller than the headers and section table, or larger than the file or the first section's VA. */
  BAD_SIZE_OF_HEADERS: 'BAD_SIZE_OF_HEADERS',
  BAD_SIZE_OF_IMAGE: 'BAD_SIZE_OF_IMAGE',
  /** The section table cannot fit inside SizeOfHeaders. */
  TOO_MANY_SECTIONS: 'TOO_MANY_SECTIONS',
  SECTION_OUT_OF_FILE: 'SECTION_OUT_OF_FILE',
  SECTION_IN_HEADERS: 'SECTION_IN_HEADERS',
  SECTION_VA_IN_HEADERS: 'SECTION_VA_IN_HEADERS',
  SECTION_BEYOND_IMAGE: 'SECTION_BEYOND_IMAGE',
  SECTIONS_OVERLAP_RAW: 'SECTIONS_OVERLAP_RAW',
  SECTIONS_OVERLAP_VA: 'SECTIONS_OVERLAP_VA',
  BAD_SECTION_NAME: 'BAD_SECTION_NAME',
  BAD_SYMBOL_TABLE: 'BAD_SYMBOL_TABLE',
  BAD_CERTIFICATE_TABLE: 'BAD_CERTIFICATE_TABLE',
  /** Writer: the image is signed and the caller did not ask to strip the signatures. */
  SIGNED_IMAGE: 'SIGNED_IMAGE',
  SECTION_NAME_TOO_LONG: 'SECTION_NAME_TOO_LONG',
  /** Writer: no room for another section header, and the headers cannot grow. */
  NO_HEADER_ROOM: 'NO_HEADER_ROOM',
  /** Writer: the layout is one whose Authenticode hash would not cover every byte (gaps, unaligned raw data). */
  UNSUPPORTED_LAYOUT: 'UNSUPPORTED_LAYOUT',
  /** Writer: the result would not fit the 32-bit fields of a PE image. */
  IMAGE_TOO_LARGE: 'IMAGE_TOO_LARGE',
} as const;
export type PeErrorCode = (typeof PE_ERROR)[keyof typeof PE_ERROR];

const hex = (n: number): string => `0x${n.toString(16)}`;

export class PeError extends Error {
  override readonly name = 'PeError';
  readonly code: PeErrorCode;
  /** File offset of the offending field or structure. */
  readonly offset: number;
  constructor(code: PeErrorCode, offset: number, message: string) {
    super(`PE: ${message} (at file offset ${hex(offset)})`);
    this.code = code;
    this.offset = offset;
  }
}

export { hex };
