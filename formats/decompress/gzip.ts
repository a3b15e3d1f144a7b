/**
 * gzip (RFC 1952), one member, as the kernel's gunzip reads it: the header is parsed here, the deflate data is
 * inflated by node:zlib (raw mode, so the stream end is known exactly), then CRC-32 and ISIZE are checked.
 * The kernel skips only an FNAME field and never checks the CRC; this reader handles every header field and
 * checks both, so it accepts everything the kernel accepts from a well-formed gzip and rejects corruption.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import type { Decoded, DecodeRequest } from './decoder.ts';
import { DECOMPRESS_ERROR, DecompressError } from './errors.ts';

const FLAG = { TEXT: 1, HCRC: 2, EXTRA: 4, NAME: 8, COMMENT: 16, RESERVED: 0xe0 } as const;

const fail = (code: (typeof DECOMPRESS_ERROR)[keyof typeof DECOMPRESS_ERROR], offset: number, detail: string) =>
  new DecompressError(code, 'gzip', offset, detail);

/** Length of the member header starting at 0. */
const headerLength = (b: Uint8Array): number => {
  if (b.length < 10) throw fail(DECOMPRESS_ERROR.TRUNCATED, b.length, 'input ends inside the 10-byte gzip header');
  if (b[0] !== 0x1f || b[1] !== 0x8b) {
    throw fail(DECOMPRESS_ERROR.UNSUPPORTED, 0, `magic ${hex2(b[0]!, b[1]!)} is not a deflate gzip member (1f 8b)`);
  }
  if (b[2] !== 8) throw fail(DECOMPRESS_ERROR.UNSUPPORTED, 2, `compression method ${b[2]} is not deflate (8)`);
  const flags = b[3]!;
  if (flags & FLAG.RESERVED)
    throw fail(DECOMPRESS_ERROR.CORRUPT, 3, `reserved header flag bits set (0x${flags.toString(16)})`);
  let at = 10;
  if (flags & FLAG.EXTRA) {
    if (at + 2 > b.length) throw fail(DECOMPRESS_ERROR.TRUNCATED, b.length, 'input ends inside the FEXTRA length');
    at += 2 + (b[at]! | (b[at + 1]! << 8));
    if (at > b.length) throw fail(DECOMPRESS_ERROR.TRUNCATED, b.length, 'input ends inside the FEXTRA field');
  }
  for (const [flag, what] of [
    [FLAG.NAME, 'FNAME'],
    [FLAG.COMMENT, 'FCOMMENT'],
  ] as const) {
    if (!(flags & flag)) continue;
    const nul = b.indexOf(0, at);
    if (nul < 0) throw fail(DECOMPRESS_ERROR.TRUNCATED, b.length, `input ends inside the ${what} string`);
    at = nul + 1;
  }
  if (flags & FLAG.HCRC) {
    if (at + 2 > b.length) throw fail(DECOMPRESS_ERROR.TRUNCATED, b.length, 'input ends inside the header CRC');
    const want = b[at]! | (b[at + 1]! << 8);
    const got = crc32(b.subarray(0, at)) & 0xffff;
    if (want !== got) throw fail(DECOMPRESS_ERROR.CORRUPT, at, 'header CRC16 mismatch');
    at += 2;
  }
  return at;
};

const hex2 = (a: number, b: number): string => `${a.toString(16).padStart(2, '0')} ${b.toString(16).padStart(2, '0')}`;

interface ZlibFailure {
  code?: unknown;
  message?: unknown;
}

export const decodeGzip = (input: Uint8Array, request: DecodeRequest): Decoded => {
  const start = headerLength(input);
  const body = input.subarray(start);
  let data: Uint8Array;
  let used: number;
  try {
    // With `info`, zlib also returns the engine, whose bytesWritten is the deflate input it used.
    const r = inflateRawSync(body, { info: true, maxOutputLength: Math.max(1, request.maxOutput) }) as unknown as {
      buffer: Uint8Array;
      engine: { bytesWritten: number };
    };
    data = r.buffer;
    used = r.engine.bytesWritten;
  } catch (e) {
    const z = e as ZlibFailure;
    if (z.code === 'ERR_BUFFER_TOO_LARGE') {
      throw fail(DECOMPRESS_ERROR.OUTPUT_LIMIT, start, `output exceeds the limit of ${request.maxOutput} bytes`);
    }
    if (z.code === 'Z_BUF_ERROR')
      throw fail(DECOMPRESS_ERROR.TRUNCATED, input.length, 'input ends inside the deflate data');
    throw fail(DECOMPRESS_ERROR.CORRUPT, start, `deflate data: ${String(z.message)}`);
  }
  if (data.length > request.maxOutput) {
    throw fail(DECOMPRESS_ERROR.OUTPUT_LIMIT, start, `output exceeds the limit of ${request.maxOutput} bytes`);
  }
  const trailer = start + used;
  if (trailer + 8 > input.length)
    throw fail(DECOMPRESS_ERROR.TRUNCATED, input.length, 'input ends inside the CRC32/ISIZE trailer');
  const view = new DataView(input.buffer, input.byteOffset + trailer, 8);
  if (view.getUint32(0, true) !== crc32(data) >>> 0)
    throw fail(DECOMPRESS_ERROR.CORRUPT, trailer, 'CRC32 of the output does not match the trailer');
  if (view.getUint32(4, true) !== data.length >>> 0)
    throw fail(DECOMPRESS_ERROR.CORRUPT, trailer + 4, 'ISIZE does not match the output length');
  return { data, end: trailer + 8 };
};
