/**
 * xz and legacy .lzma through liblzma (lzma-native), driven synchronously. xz is decoded as one stream
 * without LZMA_CONCATENATED, like the kernel's unxz, and with every filter liblzma has, including the x86
 * BCJ filter the kernel's xz_wrap.sh uses. The input is fed in slices so a bomb stops at the cap after at
 * most one slice of work; liblzma reports the input it used, which gives the end of the stream.
 */
import type { Decoded, DecodeRequest } from './decoder.ts';
import { DECOMPRESS_ERROR, DecompressError } from './errors.ts';
import { lzmaNative } from './native.ts';
import { OutputSink } from './sink.ts';

const SLICE = 64 << 10;
/** Decoder memory limit: xz -9 needs 65 MiB, the kernel's xzkern dictionary is 32 MiB. */
const MEMLIMIT = 256 << 20;

/** liblzma return codes (lzma_ret) the decoders report. */
const LZMA_RET = {
  MEM_ERROR: 5,
  MEMLIMIT_ERROR: 6,
  FORMAT_ERROR: 7,
  OPTIONS_ERROR: 8,
  DATA_ERROR: 9,
  BUF_ERROR: 10,
} as const;

class CapReached extends Error {}

export type LzmaContainer = 'xz' | 'lzma';

export const decodeLiblzma = (container: LzmaContainer, input: Uint8Array, request: DecodeRequest): Decoded => {
  const format = container;
  const stream = new (lzmaNative().Stream)();
  if (container === 'xz') stream.streamDecoder_(MEMLIMIT, 0);
  else stream.aloneDecoder_(MEMLIMIT);
  const sink = new OutputSink(request.maxOutput, format, request.into);
  let ended = false;
  let failure: (Error & { code?: number }) | undefined;
  let totalIn = 0;
  stream.bufferHandler = (buf, _processed, err, tin) => {
    if (typeof tin === 'number') totalIn = tin;
    if (err) {
      failure ??= err;
      return;
    }
    if (buf === null) {
      ended = true;
      return;
    }
    if (buf === undefined || buf.length === 0) return;
    if (buf.length > sink.room) throw new CapReached();
    sink.push(buf, totalIn);
  };
  try {
    for (let at = 0; at < input.length && !ended && !failure; at += SLICE) {
      stream.code(input.subarray(at, Math.min(at + SLICE, input.length)), false);
    }
    if (!ended && !failure) stream.code(null, false);
  } catch (e) {
    if (e instanceof CapReached) {
      throw new DecompressError(
        DECOMPRESS_ERROR.OUTPUT_LIMIT,
        format,
        totalIn,
        `output exceeds the limit of ${request.maxOutput} bytes`,
      );
    }
    throw new DecompressError(DECOMPRESS_ERROR.CORRUPT, format, totalIn, e instanceof Error ? e.message : String(e));
  } finally {
    stream.resetUnderlying();
  }
  if (failure) {
    const code = failure.code;
    if (code === LZMA_RET.BUF_ERROR) {
      throw new DecompressError(
        DECOMPRESS_ERROR.TRUNCATED,
        format,
        input.length,
        `input ends inside the ${format} stream`,
      );
    }
    if (code === LZMA_RET.OPTIONS_ERROR || code === LZMA_RET.MEMLIMIT_ERROR || code === LZMA_RET.MEM_ERROR) {
      throw new DecompressError(DECOMPRESS_ERROR.UNSUPPORTED, format, totalIn, failure.message);
    }
    throw new DecompressError(DECOMPRESS_ERROR.CORRUPT, format, totalIn, failure.message);
  }
  if (!ended)
    throw new DecompressError(
      DECOMPRESS_ERROR.TRUNCATED,
      format,
      input.length,
      `input ends inside the ${format} stream`,
    );
  return { data: sink.bytes(), end: totalIn };
};
