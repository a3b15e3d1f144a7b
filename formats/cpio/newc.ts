/**
 * The newc ("SVR4 with no CRC", 070701) and crc (070702) header: a 6-byte magic and 13 fields of 8 ASCII
 * hex digits, 110 bytes in all; then the name with its NUL, padded so header+name is a multiple of 4; then
 * the data, padded to 4. Offsets and padding count from the start of the archive.
 */
import { CPIO_ERROR, CpioError } from './errors.ts';

export const NEWC_MAGIC = '070701';
export const CRC_MAGIC = '070702';
export const ODC_MAGIC = '070707';
export const HEADER_SIZE = 110;
export const TRAILER_NAME = 'TRAILER!!!';
/** The kernel's limit on c_namesize (PATH_MAX, including the NUL). */
export const PATH_MAX = 4096;
/** Longest path component Linux accepts. */
export const NAME_MAX = 255;

/** The 13 header fields in file order. */
export const FIELDS = [
  'ino',
  'mode',
  'uid',
  'gid',
  'nlink',
  'mtime',
  'filesize',
  'devmajor',
  'devminor',
  'rdevmajor',
  'rdevminor',
  'namesize',
  'check',
] as const;
export type FieldName = (typeof FIELDS)[number];
export type HeaderFields = Record<FieldName, number>;

/** File type bits of c_mode (S_IFMT) and the types. */
export const S_IFMT = 0o170000;
export const FILE_TYPE = {
  socket: 0o140000,
  symlink: 0o120000,
  file: 0o100000,
  block: 0o060000,
  directory: 0o040000,
  char: 0o020000,
  fifo: 0o010000,
} as const;
export type FileType = keyof typeof FILE_TYPE;

export const fileTypeOf = (mode: number): FileType | undefined => {
  const t = mode & S_IFMT;
  return (Object.keys(FILE_TYPE) as FileType[]).find((k) => FILE_TYPE[k] === t);
};

/** Bytes of padding after `length` bytes to reach a multiple of 4. */
export const pad4 = (length: number): number => (4 - (length % 4)) % 4;

const HEX = '0123456789abcdef';

/** Writes the 110-byte header at `out[at]` with lower-case hex digits. */
export const encodeHeader = (out: Uint8Array, at: number, magic: string, fields: HeaderFields): void => {
  for (let i = 0; i < 6; i++) out[at + i] = magic.charCodeAt(i);
  FIELDS.forEach((name, f) => {
    const v = fields[name];
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new CpioError(CPIO_ERROR.FIELD_RANGE, at + 6 + 8 * f, `c_${name} ${v} does not fit 32 bits`);
    }
    for (let d = 0; d < 8; d++) out[at + 6 + 8 * f + d] = HEX.charCodeAt((v >>> (4 * (7 - d))) & 0xf);
  });
};

const hexValue = (c: number): number => {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
};

/** Reads the magic and 13 fields at `at` (the caller checked 110 bytes are there). Hex is case-insensitive. */
export const decodeHeader = (b: Uint8Array, at: number): { magic: string; fields: HeaderFields } => {
  const magic = String.fromCharCode(...b.subarray(at, at + 6));
  if (magic === ODC_MAGIC)
    throw new CpioError(
      CPIO_ERROR.ODC_FORMAT,
      at,
      'odc archive (070707): incorrect cpio method used: use -H newc option',
    );
  if (magic !== NEWC_MAGIC && magic !== CRC_MAGIC)
    throw new CpioError(CPIO_ERROR.BAD_MAGIC, at, 'no cpio magic (070701 or 070702)');
  const fields = {} as HeaderFields;
  FIELDS.forEach((name, f) => {
    const start = at + 6 + 8 * f;
    let v = 0;
    for (let d = 0; d < 8; d++) {
      const x = hexValue(b[start + d]!);
      if (x < 0) throw new CpioError(CPIO_ERROR.BAD_FIELD, start + d, `c_${name} is not 8 hexadecimal digits`);
      v = v * 16 + x;
    }
    fields[name] = v;
  });
  return { magic, fields };
};
