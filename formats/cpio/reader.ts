/**
 * newc/crc archive reader. Every header, name and data range is bounds-checked and every rule breach is a
 * CpioError naming the byte offset. Data are views into the input (no copies).
 */
import { CPIO_ERROR, CpioError } from './errors.ts';
import { checkName } from './names.ts';
import {
  CRC_MAGIC,
  type FileType,
  fileTypeOf,
  HEADER_SIZE,
  type HeaderFields,
  decodeHeader,
  PATH_MAX,
  pad4,
  TRAILER_NAME,
} from './newc.ts';

export interface CpioEntry {
  readonly name: string;
  readonly type: FileType;
  /** The whole c_mode (type and permission bits). */
  readonly mode: number;
  /** c_mode & 0o7777. */
  readonly permissions: number;
  readonly ino: number;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
  readonly mtime: number;
  readonly devmajor: number;
  readonly devminor: number;
  readonly rdevmajor: number;
  readonly rdevminor: number;
  readonly check: number;
  /** File contents, or a symlink's target. */
  readonly data: Uint8Array;
  /** Offset of the entry's header in the input. */
  readonly offset: number;
}

export interface CpioArchive {
  readonly entries: CpioEntry[];
  /** Offset of the archive's first header. */
  readonly start: number;
  /** Offset just past the TRAILER!!! entry (and its padding). */
  readonly end: number;
  readonly magic: '070701' | '070702';
}

export interface ReadOptions {
  /** Where the archive starts; padding is counted from here. Default 0. */
  readonly offset?: number;
  /** Apply this project's name rules (names.ts). Default true; false keeps only the kernel's (NUL-terminated, ≤ PATH_MAX). */
  readonly strictNames?: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const isZero = (b: Uint8Array, from: number, to: number): number => {
  for (let i = from; i < to; i++) if (b[i] !== 0) return i;
  return -1;
};

const decodeName = (b: Uint8Array, at: number, size: number, strict: boolean): string => {
  if (size === 0) throw new CpioError(CPIO_ERROR.BAD_NAME, at, 'c_namesize is 0 (no room for the NUL)');
  if (size > PATH_MAX)
    throw new CpioError(CPIO_ERROR.BAD_NAME, at, `c_namesize ${size} exceeds PATH_MAX (${PATH_MAX})`);
  if (b[at + size - 1] !== 0) throw new CpioError(CPIO_ERROR.BAD_NAME, at + size - 1, 'name is not NUL-terminated');
  const raw = b.subarray(at, at + size - 1);
  const nul = raw.indexOf(0);
  if (nul >= 0) throw new CpioError(CPIO_ERROR.BAD_NAME, at + nul, 'name contains a NUL byte before c_namesize');
  let name: string;
  try {
    name = utf8.decode(raw);
  } catch {
    if (strict) throw new CpioError(CPIO_ERROR.BAD_NAME, at, 'name is not valid UTF-8');
    name = new TextDecoder('latin1').decode(raw);
  }
  if (strict && name !== TRAILER_NAME) checkName(name, at);
  return name;
};

const sum32 = (d: Uint8Array): number => {
  let s = 0;
  for (let i = 0; i < d.length; i++) s = (s + d[i]!) >>> 0;
  return s;
};

/** Reads one archive up to and including its TRAILER!!! entry. */
export const readCpio = (input: Uint8Array, options: ReadOptions = {}): CpioArchive => {
  const start = options.offset ?? 0;
  const strict = options.strictNames ?? true;
  const entries: CpioEntry[] = [];
  let at = start;
  let magic: '070701' | '070702' | undefined;
  for (;;) {
    if (input.length - at < HEADER_SIZE) {
      throw new CpioError(
        CPIO_ERROR.TRUNCATED,
        at,
        entries.length ? 'input ends before the TRAILER!!! entry' : 'input ends inside a header',
      );
    }
    const h = decodeHeader(input, at);
    const f: HeaderFields = h.fields;
    if (magic !== undefined && h.magic !== magic)
      throw new CpioError(CPIO_ERROR.BAD_MAGIC, at, `magic ${h.magic} after ${magic} entries`);
    magic = h.magic as '070701' | '070702';
    const nameAt = at + HEADER_SIZE;
    if (input.length - nameAt < f.namesize)
      throw new CpioError(CPIO_ERROR.TRUNCATED, nameAt, 'input ends inside a name');
    const name = decodeName(input, nameAt, f.namesize, strict);
    const nameEnd = nameAt + f.namesize;
    const dataAt = nameEnd + pad4(nameEnd - start);
    if (dataAt > input.length) throw new CpioError(CPIO_ERROR.TRUNCATED, nameEnd, 'input ends inside the name padding');
    const badPad = isZero(input, nameEnd, dataAt);
    if (badPad >= 0) throw new CpioError(CPIO_ERROR.BAD_PADDING, badPad, 'name padding is not zero');
    if (name === TRAILER_NAME) {
      if (f.filesize !== 0) throw new CpioError(CPIO_ERROR.BAD_SIZE, at + 6 + 8 * 6, 'TRAILER!!! has a non-zero size');
      return { entries, start, end: dataAt, magic };
    }
    const type = fileTypeOf(f.mode);
    if (type === undefined)
      throw new CpioError(CPIO_ERROR.BAD_MODE, at + 6 + 8, `c_mode 0${f.mode.toString(8)} has no file type`);
    if (f.filesize !== 0 && type !== 'file' && type !== 'symlink') {
      throw new CpioError(
        CPIO_ERROR.BAD_SIZE,
        at + 6 + 8 * 6,
        `${type} ${JSON.stringify(name)} has size ${f.filesize}; only files and symlinks have data`,
      );
    }
    if (input.length - dataAt < f.filesize)
      throw new CpioError(CPIO_ERROR.TRUNCATED, dataAt, `input ends inside the data of ${JSON.stringify(name)}`);
    const dataEnd = dataAt + f.filesize;
    const next = dataEnd + pad4(dataEnd - start);
    if (next > input.length) throw new CpioError(CPIO_ERROR.TRUNCATED, dataEnd, 'input ends inside the data padding');
    const badData = isZero(input, dataEnd, next);
    if (badData >= 0) throw new CpioError(CPIO_ERROR.BAD_PADDING, badData, 'data padding is not zero');
    const data = input.subarray(dataAt, dataEnd);
    if (magic === CRC_MAGIC && sum32(data) !== f.check) {
      throw new CpioError(
        CPIO_ERROR.BAD_CHECKSUM,
        at + 6 + 8 * 12,
        `checksum of ${JSON.stringify(name)} does not match its data`,
      );
    }
    entries.push({
      name,
      type,
      mode: f.mode,
      permissions: f.mode & 0o7777,
      ino: f.ino,
      uid: f.uid,
      gid: f.gid,
      nlink: f.nlink,
      mtime: f.mtime,
      devmajor: f.devmajor,
      devminor: f.devminor,
      rdevmajor: f.rdevmajor,
      rdevminor: f.rdevminor,
      check: f.check,
      data,
      offset: at,
    });
    at = next;
  }
};

/**
 * Reads uncompressed archives concatenated as the kernel accepts them: NUL bytes between archives are
 * skipped, and each archive must start at an offset that is a multiple of 4. Compressed members are the
 * initramfs model's business (initramfs.ts).
 */
export const readCpioArchives = (input: Uint8Array, options: Omit<ReadOptions, 'offset'> = {}): CpioArchive[] => {
  const archives: CpioArchive[] = [];
  let at = 0;
  for (;;) {
    while (at < input.length && input[at] === 0) at++;
    if (at >= input.length) return archives;
    if (at % 4 !== 0)
      throw new CpioError(
        CPIO_ERROR.MISALIGNED,
        at,
        'archive does not start at a multiple of 4 (the kernel says "broken padding")',
      );
    const archive = readCpio(input, { ...options, offset: at });
    archives.push(archive);
    at = archive.end;
  }
};
