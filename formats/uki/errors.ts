/** Typed errors of the UKI model, builder and stub reference: a code, the file offset concerned, a one-line message. */

export const UKI_ERROR = {
  /** The bytes are not a PE image the reader accepts (the PeError is the cause). */
  NOT_PE: 'NOT_PE',
  /** No `.linux` section in the image, or in the selected profile's view of it. */
  NO_LINUX: 'NO_LINUX',
  /** The `@N` profile selected on the command line does not exist (the stub refuses to boot). */
  PROFILE_NOT_FOUND: 'PROFILE_NOT_FOUND',
  /** An addon carries `.linux`: it is a UKI, not an addon. */
  ADDON_HAS_LINUX: 'ADDON_HAS_LINUX',
  /** An addon has none of `.cmdline .dtb .dtbauto .initrd .ucode`. */
  ADDON_EMPTY: 'ADDON_EMPTY',
  /** Builder: a section name that is not 1–8 bytes, or an input ukify would refuse (duplicates, profile PEs). */
  BAD_INPUT: 'BAD_INPUT',
  /** Builder: the stub's `.sbat` (or another section replaced in place) has no room for the merged data. */
  NO_ROOM: 'NO_ROOM',
} as const;
export type UkiErrorCode = (typeof UKI_ERROR)[keyof typeof UKI_ERROR];

const hex = (n: number): string => `0x${n.toString(16)}`;

export class UkiError extends Error {
  override readonly name = 'UkiError';
  readonly code: UkiErrorCode;
  /** File offset of the offending structure (a section header, usually), or 0 when none applies. */
  readonly offset: number;
  constructor(code: UkiErrorCode, offset: number, message: string, options?: { cause?: unknown }) {
    super(`UKI: ${message} (at file offset ${hex(offset)})`, options);
    this.code = code;
    this.offset = offset;
  }
}
