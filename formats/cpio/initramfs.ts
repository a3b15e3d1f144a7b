/**
 * A model of the kernel's initramfs unpacker (init/initramfs.c, unpack_to_rootfs): what the kernel makes
 * of an initrd buffer `( NUL padding | newc archive | compressed newc archive )*`, with the kernel's own
 * lenient header parsing (simple_strtoul), its skipping rules and its error messages. Decompression is
 * passed in, so this module stays free of the decoders; give it the project's `decompressSync` with
 * `trailing: 'allow'`.
 */
import { FILE_TYPE, type FileType, fileTypeOf, HEADER_SIZE, PATH_MAX, S_IFMT, TRAILER_NAME } from './newc.ts';

/** What the unpacker needs from a decompressor: the output and how many input bytes the stream used. */
export type InitramfsDecompress = (input: Uint8Array) => {
  readonly format: string;
  readonly data: Uint8Array;
  readonly consumed: number;
};

/** The kernel's compression magics (decompress_method) → name, to report "not configured" and junk exactly. */
export type InitramfsMethod = (input: Uint8Array) => string | undefined;

export interface InitramfsOptions {
  readonly decompress: InitramfsDecompress;
  readonly method: InitramfsMethod;
  /** Formats the kernel was built with (CONFIG_RD_*); others give "compression method X not configured". Default: all. */
  readonly configured?: ReadonlySet<string>;
}

export interface InitramfsEntry {
  /** The name as the kernel uses it: the bytes up to the first NUL, decoded as latin1 (byte-exact). */
  readonly name: string;
  readonly type: FileType | undefined;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
  readonly mtime: number;
  readonly ino: number;
  readonly major: number;
  readonly minor: number;
  readonly rdevmajor: number;
  readonly rdevminor: number;
  /** File contents or symlink target (may be short when the buffer ends inside the entry). */
  readonly data: Uint8Array;
  /** For nlink ≥ 2 entries matching an earlier (major, minor, ino, type): the earlier name; the kernel makes a hard link. */
  readonly hardlinkOf?: string;
  /** Where the header sits: in the outer buffer, or inside the output of the compressed stream starting at `streamOffset`. */
  readonly offset: number;
  readonly compressed?: { readonly format: string; readonly streamOffset: number };
}

export interface InitramfsMember {
  readonly kind: 'cpio' | 'compressed';
  readonly format?: string;
  /** Offset of the member in the outer buffer and the bytes it spans (for compressed streams: the bytes used). */
  readonly offset: number;
  readonly length: number;
}

export interface InitramfsResult {
  readonly entries: InitramfsEntry[];
  readonly members: InitramfsMember[];
  /** The kernel's failure message ("Initramfs unpacking failed: <message>") and where it arose, if any. */
  readonly error?: { readonly message: string; readonly offset: number };
  /** The buffer ended inside an uncompressed entry: the kernel stops without a message, the entry is partial. */
  readonly truncated: boolean;
}

/** Header + name bytes padded to 4, minus the header, for a header at a 4-aligned offset (110 ≡ 2 mod 4). */
const N_ALIGN = (len: number): number => ((len + 1) & ~3) + 2;
const align4 = (n: number): number => n + ((4 - (n % 4)) % 4);
const latin1 = new TextDecoder('latin1');

/** simple_strtoul(buf, NULL, 16) over an 8-byte field: optional 0x, hex digits up to the first other byte. */
const kernelHex = (b: Uint8Array, at: number): number => {
  let i = at;
  const end = at + 8;
  if (b[i] === 0x30 && (b[i + 1]! | 0x20) === 0x78 && i + 2 < end && hexDigit(b[i + 2]!) >= 0) i += 2;
  let v = 0;
  for (; i < end; i++) {
    const d = hexDigit(b[i]!);
    if (d < 0) break;
    v = v * 16 + d;
  }
  return v;
};
const hexDigit = (c: number): number => {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
};

class KernelMessage extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

type State = 'start' | 'reset';

/** The unpacker's state across buffers, as the kernel keeps it in globals. */
class Unpacker {
  readonly entries: InitramfsEntry[] = [];
  state: State = 'start';
  /** The state after the current entry: the kernel's next_state, 'start' until the first name is handled. */
  nextState: State = 'start';
  truncated = false;
  /** A TRAILER!!! was seen since the current uncompressed member began. */
  sawTrailer = false;
  private links = new Map<string, string>();

  /**
   * Processes `b` from `at` as write_buffer does; returns where it stopped: the end of `b`, or (in the reset
   * state) the first non-zero byte at a 4-aligned position. `base` maps positions to the kernel's offset
   * counter (this_header), which decides alignment.
   */
  run(b: Uint8Array, at: number, base: number, where: InitramfsEntry['compressed']): number {
    for (;;) {
      if (this.state === 'reset') {
        while (at < b.length && b[at] === 0) at++;
        if (at < b.length && (at + base) % 4 !== 0) throw new KernelMessage('broken padding', at + base);
        return at;
      }
      if (b.length - at < HEADER_SIZE) {
        if (at < b.length) this.truncated = true;
        return b.length;
      }
      at = this.entry(b, at, base, where);
      if (at > b.length) {
        this.truncated = true;
        return b.length;
      }
      this.state = this.nextState;
    }
  }

  /** One header (do_header, do_name, do_copy, do_symlink); returns where the next one starts (may exceed b). */
  private entry(b: Uint8Array, at: number, base: number, where: InitramfsEntry['compressed']): number {
    const magic = latin1.decode(b.subarray(at, at + 6));
    if (magic === '070707') throw new KernelMessage('incorrect cpio method used: use -H newc option', at + base);
    if (magic !== '070701' && magic !== '070702') throw new KernelMessage('no cpio magic', at + base);
    const field = (i: number): number => kernelHex(b, at + 6 + 8 * i);
    const [ino, mode, uid, gid, nlink, mtime, bodyLen, major, minor, rdevmajor, rdevminor, nameLen, check] = [
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ].map(field) as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const hdrEnd = at + HEADER_SIZE;
    // next_header, rounded up to 4 on the kernel's counter, back in positions of `b`.
    const next = align4(hdrEnd + base + N_ALIGN(nameLen) + bodyLen) - base;
    if (nameLen <= 0 || nameLen > PATH_MAX) return next;
    const type = fileTypeOf(mode);
    const isLink = (mode & S_IFMT) === FILE_TYPE.symlink;
    const isReg = (mode & S_IFMT) === FILE_TYPE.file;
    if (isLink && bodyLen > PATH_MAX) return next;
    if (!isLink && !isReg && bodyLen !== 0) return next;
    const nameArea = N_ALIGN(nameLen);
    if (b.length - hdrEnd < nameArea + (isLink ? bodyLen : 0)) {
      this.truncated = true;
      return Number.POSITIVE_INFINITY;
    }
    this.nextState = 'reset';
    if (b[hdrEnd + nameLen - 1] !== 0) {
      throw new KernelMessage('malformed archive', hdrEnd + base);
    }
    const rawName = b.subarray(hdrEnd, hdrEnd + nameLen);
    const name = latin1.decode(rawName.subarray(0, rawName.indexOf(0)));
    if (!isLink && name === TRAILER_NAME) {
      this.links.clear();
      this.sawTrailer = true;
      return next;
    }
    const dataAt = hdrEnd + nameArea;
    const available = Math.max(0, Math.min(bodyLen, b.length - dataAt));
    const data = isLink || isReg ? b.subarray(dataAt, dataAt + available) : new Uint8Array(0);
    if (magic === '070702' && isReg && available === bodyLen) {
      let sum = 0;
      for (const byte of data) sum = (sum + byte) >>> 0;
      if (sum !== check) throw new KernelMessage('bad data checksum', at + base);
    }
    let hardlinkOf: string | undefined;
    if (nlink >= 2 && !isLink && (mode & S_IFMT) !== FILE_TYPE.directory) {
      const key = `${major}:${minor}:${ino}:${mode & S_IFMT}`;
      hardlinkOf = this.links.get(key);
      if (hardlinkOf === undefined) this.links.set(key, name);
    }
    this.entries.push({
      name,
      type,
      mode,
      uid,
      gid,
      nlink,
      mtime,
      ino,
      major,
      minor,
      rdevmajor,
      rdevminor,
      data,
      ...(hardlinkOf !== undefined ? { hardlinkOf } : {}),
      offset: at,
      ...(where ? { compressed: where } : {}),
    });
    return next;
  }
}

/** What the kernel unpacks from `buffer`: the entries in order, the members, and its verdict. */
export const unpackInitramfs = (buffer: Uint8Array, options: InitramfsOptions): InitramfsResult => {
  const u = new Unpacker();
  const members: InitramfsMember[] = [];
  let at = 0;
  try {
    while (at < buffer.length) {
      if (buffer[at] === 0x30 && at % 4 === 0) {
        u.state = 'start';
        // The kernel restarts at every entry; entries up to a trailer form one member.
        const last = members[members.length - 1];
        const continues = last?.kind === 'cpio' && last.offset + last.length === at && !u.sawTrailer;
        if (!continues) u.sawTrailer = false;
        const stop = u.run(buffer, at, 0, undefined);
        if (continues) members[members.length - 1] = { ...last, length: stop - last.offset };
        else members.push({ kind: 'cpio', offset: at, length: stop - at });
        at = stop;
        continue;
      }
      if (buffer[at] === 0) {
        at++;
        continue;
      }
      const rest = buffer.subarray(at);
      const method = options.method(rest);
      if (method === undefined) throw new KernelMessage('junk in compressed archive', at);
      if (options.configured && !options.configured.has(method)) {
        throw new KernelMessage(`compression method ${method} not configured`, at);
      }
      let out: ReturnType<InitramfsDecompress>;
      try {
        out = options.decompress(rest);
      } catch (e) {
        throw new KernelMessage(`decompressor failed: ${e instanceof Error ? e.message : String(e)}`, at);
      }
      const where = { format: out.format, streamOffset: at };
      // flush_buffer: the output continues the unpacker's state; offsets restart at 0 inside it.
      let pos = 0;
      while (pos < out.data.length) {
        pos = u.run(out.data, pos, 0, where);
        if (pos >= out.data.length) break;
        if (out.data[pos] === 0x30) u.state = 'start';
        else throw new KernelMessage('junk in compressed archive', at);
      }
      if (u.state !== 'reset' || u.truncated) throw new KernelMessage('junk in compressed archive', at);
      members.push({ kind: 'compressed', format: out.format, offset: at, length: out.consumed });
      at += out.consumed;
    }
  } catch (e) {
    if (!(e instanceof KernelMessage)) throw e;
    return { entries: u.entries, members, error: { message: e.message, offset: e.offset }, truncated: u.truncated };
  }
  return { entries: u.entries, members, truncated: u.truncated };
};
