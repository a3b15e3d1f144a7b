/**
 * bzip2, one stream, as the kernel's bunzip2 reads it, decoded by libbz2 compiled to WebAssembly
 * (@foxglove/wasm-bz2). libbz2's buffer-to-buffer call neither says how much input it used nor streams,
 * so: (1) the end of the stream is found by locating the 48-bit end-of-stream marker (bit-aligned) and
 * taking the first candidate whose prefix decodes completely (a false marker inside block data leaves a
 * truncated stream, which libbz2 rejects); (2) the output buffer starts at a guess and doubles up to the cap.
 */
import type { Decoded, DecodeRequest } from './decoder.ts';
import { DECOMPRESS_ERROR, DecompressError } from './errors.ts';
import { type Bzip2Wasm, loadedBzip2 } from './native.ts';

/** 0x177245385090 (sqrt(pi)), then a 32-bit combined CRC, then zero bits up to a byte boundary. */
const EOS_MAGIC = 0x177245385090n;
const MAX_CANDIDATES = 64;
const BZ = { OUTBUFF_FULL: -8, DATA_ERROR: -4, DATA_ERROR_MAGIC: -5, UNEXPECTED_EOF: -7, MEM_ERROR: -3 } as const;

const fail = (code: (typeof DECOMPRESS_ERROR)[keyof typeof DECOMPRESS_ERROR], offset: number, detail: string) =>
  new DecompressError(code, 'bzip2', offset, detail);

/** Byte offsets just past each candidate end-of-stream marker + CRC, ascending. */
export const bzip2StreamEnds = (b: Uint8Array): number[] => {
  const ends = new Set<number>();
  const buf = Buffer.from(b.buffer, b.byteOffset, b.length);
  for (let k = 0; k < 8; k++) {
    // The marker starting k bits into byte i spans 7 bytes; bytes 1..5 of that window are fully determined.
    const w = EOS_MAGIC << BigInt(8 - k);
    const win = [6, 5, 4, 3, 2, 1, 0].map((s) => Number((w >> BigInt(8 * s)) & 0xffn));
    const firstFull = k === 0 ? 0 : 1;
    const pattern = Buffer.from(win.slice(firstFull, 6));
    const headMask = k === 0 ? 0xff : 0xff >> k;
    for (let at = buf.indexOf(pattern, 0); at >= 0; at = buf.indexOf(pattern, at + 1)) {
      const i = at - firstFull;
      if (i < 0) continue;
      if (k > 0 && (b[i]! & headMask) !== win[0]) continue;
      if (k > 0 && i + 6 < b.length && (b[i + 6]! & (0xff << (8 - k)) & 0xff) !== win[6]) continue;
      const endBit = 8 * i + k + 48 + 32;
      const end = Math.ceil(endBit / 8);
      if (end <= b.length) ends.add(end);
    }
  }
  return [...ends].sort((x, y) => x - y);
};

interface Bzip2Failure {
  message?: unknown;
}
const codeOf = (e: unknown): number | undefined => {
  const m = /failed: (-?\d+)/.exec(String((e as Bzip2Failure).message));
  return m ? Number(m[1]) : undefined;
};

/** Decodes `src` (exactly one stream) growing the output buffer up to `max`; returns undefined on a library error code. */
const decodeWhole = (
  bz: Bzip2Wasm,
  src: Uint8Array,
  request: DecodeRequest,
): { data: Uint8Array } | { code: number | undefined; message: string } => {
  const max = request.maxOutput;
  let size = Math.min(max, Math.max(request.sizeHint ?? 0, 1 << 20, src.length * 8));
  for (;;) {
    try {
      // +1 so that output of exactly `max` bytes is told apart from output that does not fit.
      return { data: bz.decompress(src, size === max ? max + 1 : size) };
    } catch (e) {
      const code = codeOf(e);
      if (code === BZ.OUTBUFF_FULL && size < max) {
        size = Math.min(max, size * 2);
        continue;
      }
      return { code, message: String((e as Bzip2Failure).message) };
    }
  }
};

export const decodeBzip2 = (input: Uint8Array, request: DecodeRequest): Decoded => {
  const bz = loadedBzip2();
  if (!bz) {
    throw fail(
      DECOMPRESS_ERROR.NOT_READY,
      0,
      'the bzip2 decoder loads asynchronously: await prepareDecompressors() first',
    );
  }
  if (input.length < 4) throw fail(DECOMPRESS_ERROR.TRUNCATED, input.length, 'input ends inside the BZh header');
  if (input[0] !== 0x42 || input[1] !== 0x5a || input[2] !== 0x68 || input[3]! < 0x31 || input[3]! > 0x39) {
    throw fail(DECOMPRESS_ERROR.CORRUPT, 0, 'header is not "BZh1".."BZh9"');
  }
  const failure = (r: { code: number | undefined; message: string }, at: number): DecompressError => {
    if (r.code === BZ.OUTBUFF_FULL)
      return fail(DECOMPRESS_ERROR.OUTPUT_LIMIT, 0, `output exceeds the limit of ${request.maxOutput} bytes`);
    if (r.code === BZ.UNEXPECTED_EOF) return fail(DECOMPRESS_ERROR.TRUNCATED, at, 'input ends inside the bzip2 stream');
    return fail(DECOMPRESS_ERROR.CORRUPT, 0, r.message);
  };
  const ends = bzip2StreamEnds(input).slice(0, MAX_CANDIDATES);
  for (const end of ends) {
    const r = decodeWhole(bz, input.subarray(0, end), request);
    if ('data' in r) {
      if (r.data.length > request.maxOutput) throw failure({ code: BZ.OUTBUFF_FULL, message: '' }, 0);
      return { data: r.data, end };
    }
    if (r.code !== BZ.UNEXPECTED_EOF) throw failure(r, end);
  }
  // No marker closes a decodable stream: let libbz2 say what is wrong with the whole input.
  const r = decodeWhole(bz, input, request);
  if ('data' in r) throw fail(DECOMPRESS_ERROR.CORRUPT, 0, 'stream decodes but its end-of-stream marker was not found');
  throw failure(r, input.length);
};
