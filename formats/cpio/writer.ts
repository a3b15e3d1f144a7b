/** newc/crc archive writer: lower-case hex headers, names and data padded to 4, a TRAILER!!! entry. */
import { CPIO_ERROR, CpioError } from './errors.ts';
import { checkName } from './names.ts';
import {
  CRC_MAGIC,
  encodeHeader,
  FILE_TYPE,
  type FileType,
  HEADER_SIZE,
  type HeaderFields,
  NEWC_MAGIC,
  pad4,
  TRAILER_NAME,
} from './newc.ts';

export interface CpioInput {
  readonly name: string;
  /** Default 'file'. */
  readonly type?: FileType;
  /** Permission bits (mode & 0o7777). Default 0o644 for files, 0o755 for directories, 0o777 for symlinks. */
  readonly permissions?: number;
  /** File contents or symlink target. Only files and symlinks may have data. */
  readonly data?: Uint8Array | string;
  readonly ino?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** Default 1, which keeps archives safe to concatenate (no hard-link matching). */
  readonly nlink?: number;
  readonly mtime?: number;
  readonly devmajor?: number;
  readonly devminor?: number;
  readonly rdevmajor?: number;
  readonly rdevminor?: number;
}

export interface WriteOptions {
  /** 'newc' (070701, check 0) or 'crc' (070702, check = sum of the data bytes). Default 'newc'. */
  readonly format?: 'newc' | 'crc';
  /** Inode numbers for entries without `ino`: counted from this value. Default 1. */
  readonly firstIno?: number;
}

const DEFAULT_PERMISSIONS: Record<FileType, number> = {
  file: 0o644,
  directory: 0o755,
  symlink: 0o777,
  char: 0o644,
  block: 0o644,
  fifo: 0o644,
  socket: 0o644,
};

const utf8 = new TextEncoder();

interface Planned {
  readonly nameBytes: Uint8Array;
  readonly data: Uint8Array;
  readonly fields: HeaderFields;
}

const sum32 = (d: Uint8Array): number => {
  let s = 0;
  for (let i = 0; i < d.length; i++) s = (s + d[i]!) >>> 0;
  return s;
};

/** Bytes of one entry at an archive-relative 4-aligned offset. */
const entrySize = (nameLength: number, dataLength: number): number => {
  const head = HEADER_SIZE + nameLength + 1;
  return head + pad4(head) + dataLength + pad4(dataLength);
};

/** Writes one archive holding `inputs` in order, then the trailer. The archive must be placed at a 4-aligned offset. */
export const writeCpio = (inputs: readonly CpioInput[], options: WriteOptions = {}): Uint8Array => {
  const magic = options.format === 'crc' ? CRC_MAGIC : NEWC_MAGIC;
  let ino = options.firstIno ?? 1;
  const planned: Planned[] = inputs.map((e, i) => {
    const type = e.type ?? 'file';
    const nameBytes = checkName(e.name, i);
    const data = typeof e.data === 'string' ? utf8.encode(e.data) : (e.data ?? new Uint8Array(0));
    if (data.length > 0 && type !== 'file' && type !== 'symlink') {
      throw new CpioError(CPIO_ERROR.BAD_SIZE, i, `${type} ${JSON.stringify(e.name)} cannot have data`);
    }
    const permissions = e.permissions ?? DEFAULT_PERMISSIONS[type];
    if (!Number.isInteger(permissions) || permissions < 0 || permissions > 0o7777) {
      throw new CpioError(
        CPIO_ERROR.FIELD_RANGE,
        i,
        `permissions 0${permissions.toString(8)} of ${JSON.stringify(e.name)} exceed 0o7777`,
      );
    }
    const fields: HeaderFields = {
      ino: e.ino ?? ino++,
      mode: FILE_TYPE[type] | permissions,
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      nlink: e.nlink ?? 1,
      mtime: e.mtime ?? 0,
      filesize: data.length,
      devmajor: e.devmajor ?? 0,
      devminor: e.devminor ?? 0,
      rdevmajor: e.rdevmajor ?? 0,
      rdevminor: e.rdevminor ?? 0,
      namesize: nameBytes.length + 1,
      check: magic === CRC_MAGIC ? sum32(data) : 0,
    };
    return { nameBytes, data, fields };
  });
  const trailer: Planned = {
    nameBytes: utf8.encode(TRAILER_NAME),
    data: new Uint8Array(0),
    fields: {
      ino: 0,
      mode: 0,
      uid: 0,
      gid: 0,
      nlink: 1,
      mtime: 0,
      filesize: 0,
      devmajor: 0,
      devminor: 0,
      rdevmajor: 0,
      rdevminor: 0,
      namesize: TRAILER_NAME.length + 1,
      check: 0,
    },
  };
  planned.push(trailer);
  const total = planned.reduce((n, p) => n + entrySize(p.nameBytes.length, p.data.length), 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of planned) {
    encodeHeader(out, at, magic, p.fields);
    out.set(p.nameBytes, at + HEADER_SIZE);
    const head = HEADER_SIZE + p.nameBytes.length + 1;
    at += head + pad4(head);
    out.set(p.data, at);
    at += p.data.length + pad4(p.data.length);
  }
  return out;
};
