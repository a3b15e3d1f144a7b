/**
 * zstd, one frame, as the kernel's unzstd reads it (lib/decompress_unzstd.c decodes the first frame and
 * reports how much input it used). A frame that declares its content size is decoded in one call into a
 * buffer of exactly that size, after checking the size against the cap; otherwise it is streamed in chunks.
 */
import type { Decoded, DecodeRequest } from './decoder.ts';
import { DECOMPRESS_ERROR, DecompressError } from './errors.ts';
import { zstdBinding } from './native.ts';
import { OutputSink } from './sink.ts';

const CHUNK = 1 << 20;
/** The kernel accepts windows up to 2^27 bytes (ZSTD_WINDOWSIZE_MAX); so do we, which bounds decoder memory. */
const WINDOW_LOG_MAX = 27;

const fail = (code: (typeof DECOMPRESS_ERROR)[keyof typeof DECOMPRESS_ERROR], offset: number, detail: string) =>
  new DecompressError(code, 'zstd', offset, detail);

const libraryError = (e: unknown, offset: number, input: Uint8Array): DecompressError => {
  const msg = e instanceof Error ? e.message : String(e);
  if (/src size is incorrect|truncated|not enough/i.test(msg)) {
    return fail(DECOMPRESS_ERROR.TRUNCATED, input.length, `input ends inside the frame (${msg})`);
  }
  if (/Unknown frame descriptor|prefix unknown/i.test(msg))
    return fail(DECOMPRESS_ERROR.CORRUPT, 0, `not a zstd frame (${msg})`);
  if (/Frame requires too much memory|window/i.test(msg)) return fail(DECOMPRESS_ERROR.UNSUPPORTED, 0, msg);
  return fail(DECOMPRESS_ERROR.CORRUPT, offset, msg);
};

export const decodeZstd = (input: Uint8Array, request: DecodeRequest): Decoded => {
  const z = zstdBinding();
  if (input.length < 4) throw fail(DECOMPRESS_ERROR.TRUNCATED, input.length, 'input ends inside the frame magic');
  let declared: number | null;
  try {
    declared = z.getFrameContentSize(input);
  } catch (e) {
    throw libraryError(e, 0, input);
  }
  const dctx = new z.DCtx();
  dctx.setParameter(z.DParameter.windowLogMax, WINDOW_LOG_MAX);
  if (declared !== null) {
    if (declared > request.maxOutput) {
      throw fail(
        DECOMPRESS_ERROR.OUTPUT_LIMIT,
        0,
        `frame declares ${declared} bytes, over the limit of ${request.maxOutput}`,
      );
    }
    let frameSize: number;
    try {
      frameSize = z.findFrameCompressedSize(input);
    } catch (e) {
      throw libraryError(e, 0, input);
    }
    const out = request.into?.subarray(0, declared) ?? new Uint8Array(declared);
    let n: number;
    try {
      n = dctx.decompress(out, input.subarray(0, frameSize));
    } catch (e) {
      throw libraryError(e, 0, input);
    }
    if (n !== declared) throw fail(DECOMPRESS_ERROR.CORRUPT, 0, `frame declares ${declared} bytes but holds ${n}`);
    return { data: out, end: frameSize };
  }
  const sink = new OutputSink(request.maxOutput, 'zstd', request.into);
  let at = 0;
  for (;;) {
    // Into the destination while it has room; past the cap, one byte more than the room tells a stream that
    // ends exactly at the cap from one that does not fit.
    const window = sink.room > 0 ? sink.window(CHUNK) : undefined;
    const chunk = window ?? new Uint8Array(Math.min(CHUNK, Math.max(sink.room, 0) + 1));
    let ret: number;
    let produced: number;
    let consumed: number;
    try {
      [ret, produced, consumed] = dctx.decompressStream(chunk, input.subarray(at));
    } catch (e) {
      throw libraryError(e, at, input);
    }
    at += consumed;
    if (window) sink.commit(produced, at);
    else sink.push(chunk.subarray(0, produced), at);
    if (ret === 0) return { data: sink.bytes(), end: at };
    if (consumed === 0 && produced === 0) {
      throw fail(DECOMPRESS_ERROR.TRUNCATED, input.length, 'input ends inside the frame');
    }
  }
};
