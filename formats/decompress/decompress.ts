/**
 * `decompress`: the kernel's decompressors as one call. The format is chosen by the first two bytes like
 * the kernel's `decompress_method`; the output is capped; truncation, corruption and trailing bytes are
 * typed errors naming the input offset.
 */
import { decodeBzip2 } from './bzip2.ts';
import type { Decoder } from './decoder.ts';
import { DECOMPRESS_ERROR, DecompressError } from './errors.ts';
import { decodeGzip } from './gzip.ts';
import { decodeLz4Legacy } from './lz4.ts';
import { decodeLiblzma } from './lzma.ts';
import { decodeLzop } from './lzop.ts';
import { type CompressionFormat, decompressMethod } from './method.ts';
import { loadBzip2 } from './native.ts';
import { decodeZstd } from './zstd.ts';

export interface DecompressOptions {
  /** Largest output accepted, in bytes. More is an OUTPUT_LIMIT error, raised before the memory is taken. */
  readonly maxOutput: number;
  /**
   * What may follow the compressed stream: 'reject' (default) makes any byte after it a TRAILING_DATA error;
   * 'allow' returns how many bytes the stream used (`consumed`), as the initramfs unpacker needs.
   */
  readonly trailing?: 'reject' | 'allow';
  /**
   * The stream is followed by the u32 LE uncompressed size the kernel's build appends (bzImage payloads,
   * non-gzip EFI zboot payloads; gzip carries it already as ISIZE). It is checked against the output. For
   * lz4, whose stream has no end marker, the last 4 input bytes are taken as the trailer.
   */
  readonly sizeTrailer?: boolean;
  /** Decode as this format instead of choosing by magic. */
  readonly format?: CompressionFormat;
}

export interface DecompressResult {
  readonly format: CompressionFormat;
  readonly data: Uint8Array;
  /** Input bytes used by the stream (and its size trailer). */
  readonly consumed: number;
}

const DECODERS: Readonly<Record<CompressionFormat, Decoder>> = {
  gzip: decodeGzip,
  bzip2: decodeBzip2,
  lzma: (input, request) => decodeLiblzma('lzma', input, request),
  xz: (input, request) => decodeLiblzma('xz', input, request),
  lzo: decodeLzop,
  lz4: decodeLz4Legacy,
  zstd: decodeZstd,
};

const u32le = (b: Uint8Array, at: number): number =>
  (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

/** Loads the decoders that initialise asynchronously (bzip2's WebAssembly module). Idempotent. */
export const prepareDecompressors = async (): Promise<void> => {
  await loadBzip2();
};

/** The shared body of decompressSync and decompressInto (`into` set: output goes there, capped by maxOutput). */
const decode = (input: Uint8Array, options: DecompressOptions, into?: Uint8Array): DecompressResult => {
  const { maxOutput, trailing = 'reject', sizeTrailer = false } = options;
  if (!Number.isSafeInteger(maxOutput) || maxOutput < 0)
    throw new RangeError(`maxOutput must be a non-negative integer, got ${maxOutput}`);
  const format = options.format ?? decompressMethod(input);
  if (format === undefined) {
    const shown = [...input.subarray(0, 2)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new DecompressError(
      DECOMPRESS_ERROR.UNKNOWN_FORMAT,
      undefined,
      0,
      `no compression format has the magic "${shown}"`,
    );
  }
  const hasTrailer = sizeTrailer && format !== 'gzip';
  let body = input;
  let hint: number | undefined;
  if (hasTrailer) {
    if (input.length < 4)
      throw new DecompressError(DECOMPRESS_ERROR.BAD_SIZE_TRAILER, format, 0, 'input too short for a size trailer');
    hint = u32le(input, input.length - 4);
    if (format === 'lz4') body = input.subarray(0, input.length - 4);
  }
  const decoded = DECODERS[format](body, { maxOutput, sizeHint: hint, ...(into ? { into } : {}) });
  const { end } = decoded;
  let data = decoded.data;
  // Decoders that cannot write in place (node:zlib, libbz2's wasm, lzo stored as-is) hand back their own
  // buffer, already checked against the cap: copy it in.
  if (into && (data.buffer !== into.buffer || data.byteOffset !== into.byteOffset)) {
    into.set(data);
    data = into.subarray(0, data.length);
  }
  let consumed = end;
  if (hasTrailer) {
    if (end + 4 > input.length) {
      throw new DecompressError(
        DECOMPRESS_ERROR.BAD_SIZE_TRAILER,
        format,
        end,
        'the stream is not followed by a 4-byte size trailer',
      );
    }
    const size = u32le(input, end);
    if (size !== data.length >>> 0) {
      throw new DecompressError(
        DECOMPRESS_ERROR.BAD_SIZE_TRAILER,
        format,
        end,
        `size trailer says ${size}, output is ${data.length} bytes`,
      );
    }
    consumed = end + 4;
  }
  if (trailing === 'reject' && consumed !== input.length) {
    throw new DecompressError(
      DECOMPRESS_ERROR.TRAILING_DATA,
      format,
      consumed,
      `${input.length - consumed} bytes follow the end of the stream`,
    );
  }
  return { format, data, consumed };
};

/**
 * Synchronous form. Every format works once `prepareDecompressors()` has resolved; before that, bzip2
 * fails with NOT_READY.
 */
export const decompressSync = (input: Uint8Array, options: DecompressOptions): DecompressResult =>
  decode(input, options);

export type DecompressIntoOptions = Omit<DecompressOptions, 'maxOutput'>;

export interface DecompressIntoResult {
  readonly format: CompressionFormat;
  /** Bytes written at the start of `dst`. */
  readonly written: number;
  /** Input bytes used by the stream (and its size trailer). */
  readonly consumed: number;
}

/**
 * Decompresses `input` into the caller's `dst` from offset 0, as the kernel's decompressors fill a given
 * buffer: the cap is `dst.length` (more output is an OUTPUT_LIMIT error), the errors are decompressSync's.
 * Bytes of `dst` past `written` are left as they were; after an error `dst` may hold partial output.
 * Synchronous, so bzip2 needs `prepareDecompressors()` first (else NOT_READY).
 */
export const decompressInto = (
  input: Uint8Array,
  dst: Uint8Array,
  options: DecompressIntoOptions = {},
): DecompressIntoResult => {
  const { format, data, consumed } = decode(input, { ...options, maxOutput: dst.length }, dst);
  return { format, written: data.length, consumed };
};

/** Decompresses `input` (see DecompressOptions); loads the asynchronous decoders first when needed. */
export const decompress = async (input: Uint8Array, options: DecompressOptions): Promise<DecompressResult> => {
  if ((options.format ?? decompressMethod(input)) === 'bzip2') await prepareDecompressors();
  return decompressSync(input, options);
};
