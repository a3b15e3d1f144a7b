/**
 * lzop container (what `lzop -9` writes and the kernel's unlzo reads): a file header, then blocks of
 * `u32 BE uncompressed size, u32 BE compressed size, checksums, data`, ended by a zero size. The kernel
 * assumes lzop's default flags (one 4-byte checksum per block) and skips every checksum; this reader
 * follows the flags and checks the header and block checksums. Blocks are limited to 256 KiB of output
 * like the kernel's LZO_BLOCK_SIZE.
 */
import { crc32 } from 'node:zlib';
import { adler32 } from './checksum.ts';
import type { Decoded, DecodeRequest } from './decoder.ts';
import { DECOMPRESS_ERROR, DecompressError } from './errors.ts';
import { LzoFaultError, lzo1xDecode } from './lzo1x.ts';
import { OutputSink } from './sink.ts';

export const LZOP_MAGIC = [0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a] as const;
export const LZO_BLOCK_SIZE = 256 * 1024;

/** lzop header flags (lzop's conf.h). */
const F = {
  ADLER32_D: 0x1,
  ADLER32_C: 0x2,
  H_EXTRA_FIELD: 0x40,
  CRC32_D: 0x100,
  CRC32_C: 0x200,
  MULTIPART: 0x400,
  H_FILTER: 0x800,
  H_CRC32: 0x1000,
} as const;
/** M_LZO1X_1, M_LZO1X_1_15, M_LZO1X_999: all decoded by LZO1X. */
const LZO1X_METHODS = new Set([1, 2, 3]);

const fail = (code: (typeof DECOMPRESS_ERROR)[keyof typeof DECOMPRESS_ERROR], offset: number, detail: string) =>
  new DecompressError(code, 'lzo', offset, detail);

class Cursor {
  at = 0;
  readonly b: Uint8Array;
  constructor(b: Uint8Array) {
    this.b = b;
  }
  need(n: number, what: string): void {
    if (this.b.length - this.at < n)
      throw fail(DECOMPRESS_ERROR.TRUNCATED, this.b.length, `input ends inside the ${what}`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.b[this.at++]!;
  }
  u16(what: string): number {
    this.need(2, what);
    const v = (this.b[this.at]! << 8) | this.b[this.at + 1]!;
    this.at += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v =
      ((this.b[this.at]! << 24) | (this.b[this.at + 1]! << 16) | (this.b[this.at + 2]! << 8) | this.b[this.at + 3]!) >>>
      0;
    this.at += 4;
    return v;
  }
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const v = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
}

const checksum = (useCrc: boolean, data: Uint8Array): number => (useCrc ? crc32(data) >>> 0 : adler32(data));

/** Parses the file header; returns the flags. */
const readHeader = (c: Cursor): number => {
  c.need(LZOP_MAGIC.length, 'lzop magic');
  LZOP_MAGIC.forEach((m, i) => {
    if (c.b[i] !== m) throw fail(DECOMPRESS_ERROR.CORRUPT, i, 'not an lzop file (magic 89 4c 5a 4f 00 0d 0a 1a 0a)');
  });
  c.at = LZOP_MAGIC.length;
  const start = c.at;
  const version = c.u16('header version');
  c.u16('header library version');
  if (version >= 0x0940) c.u16('header version-needed');
  const methodAt = c.at;
  const method = c.u8('header method');
  if (version >= 0x0940) c.u8('header level');
  const flags = c.u32('header flags');
  if (!LZO1X_METHODS.has(method)) throw fail(DECOMPRESS_ERROR.UNSUPPORTED, methodAt, `method ${method} is not LZO1X`);
  if (flags & F.MULTIPART)
    throw fail(DECOMPRESS_ERROR.UNSUPPORTED, methodAt + 2, 'multipart lzop files are not supported');
  if (flags & F.H_FILTER) c.u32('header filter');
  c.u32('header mode');
  c.u32('header mtime');
  if (version >= 0x0940) c.u32('header mtime (high)');
  const nameLength = c.u8('header name length');
  c.bytes(nameLength, 'header name');
  const headerEnd = c.at;
  const want = c.u32('header checksum');
  if (want !== checksum((flags & F.H_CRC32) !== 0, c.b.subarray(start, headerEnd))) {
    throw fail(DECOMPRESS_ERROR.CORRUPT, headerEnd, 'header checksum mismatch');
  }
  if (flags & F.H_EXTRA_FIELD) {
    const extraStart = c.at;
    const n = c.u32('extra field length');
    c.bytes(n, 'extra field');
    const extraWant = c.u32('extra field checksum');
    if (extraWant !== checksum((flags & F.H_CRC32) !== 0, c.b.subarray(extraStart, c.at - 4))) {
      throw fail(DECOMPRESS_ERROR.CORRUPT, c.at - 4, 'extra field checksum mismatch');
    }
  }
  return flags;
};

export const decodeLzop = (input: Uint8Array, request: DecodeRequest): Decoded => {
  const c = new Cursor(input);
  const flags = readHeader(c);
  const sink = new OutputSink(request.maxOutput, 'lzo', request.into);
  for (;;) {
    const blockAt = c.at;
    const dstLen = c.u32('block header');
    if (dstLen === 0) return { data: sink.bytes(), end: c.at };
    if (dstLen > LZO_BLOCK_SIZE) {
      throw fail(
        DECOMPRESS_ERROR.UNSUPPORTED,
        blockAt,
        `block of ${dstLen} bytes is longer than the kernel's ${LZO_BLOCK_SIZE}`,
      );
    }
    const srcLen = c.u32('block header');
    if (srcLen === 0 || srcLen > dstLen) {
      throw fail(DECOMPRESS_ERROR.CORRUPT, blockAt + 4, `compressed size ${srcLen} for ${dstLen} bytes of output`);
    }
    // lzop writes, in this order: Adler-32 and CRC-32 of the output, then (compressed blocks only) of the input.
    const sums: { crc: boolean; ofOutput: boolean; value: number }[] = [];
    for (const [flag, crc, ofOutput] of [
      [F.ADLER32_D, false, true],
      [F.CRC32_D, true, true],
      [F.ADLER32_C, false, false],
      [F.CRC32_C, true, false],
    ] as const) {
      if (flags & flag && (ofOutput || srcLen < dstLen)) sums.push({ crc, ofOutput, value: c.u32('block checksum') });
    }
    const dataAt = c.at;
    const src = c.bytes(srcLen, 'block data');
    sink.reserve(dstLen, dataAt);
    for (const s of sums) {
      if (!s.ofOutput && s.value !== checksum(s.crc, src))
        throw fail(DECOMPRESS_ERROR.CORRUPT, dataAt, 'compressed block checksum mismatch');
    }
    let out: Uint8Array;
    // In place when there is a destination (reserve above guarantees the window is dstLen long).
    const window = sink.window(dstLen);
    if (srcLen === dstLen) {
      window?.set(src);
      out = window ?? src.slice();
    } else {
      out = window ?? new Uint8Array(dstLen);
      let n: number;
      try {
        n = lzo1xDecode(src, out);
      } catch (e) {
        if (e instanceof LzoFaultError) throw fail(DECOMPRESS_ERROR.CORRUPT, dataAt + e.at, `LZO1X block: ${e.fault}`);
        throw e;
      }
      if (n !== dstLen)
        throw fail(DECOMPRESS_ERROR.CORRUPT, dataAt, `block decodes to ${n} bytes, header says ${dstLen}`);
    }
    for (const s of sums) {
      if (s.ofOutput && s.value !== checksum(s.crc, out))
        throw fail(DECOMPRESS_ERROR.CORRUPT, dataAt, 'uncompressed block checksum mismatch');
    }
    if (window) sink.commit(dstLen, c.at);
    else sink.push(out, c.at);
  }
};
