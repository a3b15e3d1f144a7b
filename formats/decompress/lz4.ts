/**
 * lz4 legacy frame (`lz4 -l`, what the kernel builds and reads, lib/decompress_unlz4.c): the magic
 * 02 21 4c 18, then blocks each prefixed by a u32 LE compressed size and holding at most 8 MiB of output.
 * The format has no end marker. As in the kernel, the stream ends at the end of the input, when fewer than
 * 4 bytes are left, or at a zero block size (the initramfs zero padding); a repeated magic is skipped
 * (concatenated legacy streams). Blocks are decoded by lz4-napi (lz4_flex).
 */
import type { Decoded, DecodeRequest } from './decoder.ts';
import { DECOMPRESS_ERROR, DecompressError } from './errors.ts';
import { lz4Napi } from './native.ts';
import { OutputSink } from './sink.ts';

export const LZ4_LEGACY_MAGIC = 0x184c2102;
/** Uncompressed size of every block but the last (LZ4_DEFAULT_UNCOMPRESSED_CHUNK_SIZE). */
export const LZ4_LEGACY_BLOCK = 8 << 20;
/** LZ4_compressBound(8 MiB): no valid block is larger. */
const MAX_BLOCK = LZ4_LEGACY_BLOCK + Math.floor(LZ4_LEGACY_BLOCK / 255) + 16;

const fail = (code: (typeof DECOMPRESS_ERROR)[keyof typeof DECOMPRESS_ERROR], offset: number, detail: string) =>
  new DecompressError(code, 'lz4', offset, detail);

const u32 = (b: Uint8Array, at: number): number =>
  (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

export const decodeLz4Legacy = (input: Uint8Array, request: DecodeRequest): Decoded => {
  if (input.length < 4) throw fail(DECOMPRESS_ERROR.TRUNCATED, input.length, 'input ends inside the magic');
  if (u32(input, 0) !== LZ4_LEGACY_MAGIC) {
    throw fail(
      DECOMPRESS_ERROR.UNSUPPORTED,
      0,
      'not a legacy lz4 frame (magic 02 21 4c 18); the lz4 frame format is not what the kernel reads',
    );
  }
  const lz4 = lz4Napi();
  const sink = new OutputSink(request.maxOutput, 'lz4', request.into);
  // lz4_flex reads the output size from a 4-byte prefix; giving the block maximum lets it return the real
  // size. One scratch buffer holds prefix + block for every block (grown to the largest block seen).
  let framed = new Uint8Array(0);
  let at = 4;
  while (input.length - at >= 4) {
    const size = u32(input, at);
    if (size === LZ4_LEGACY_MAGIC) {
      at += 4;
      continue;
    }
    if (size === 0) break;
    if (size > MAX_BLOCK)
      throw fail(DECOMPRESS_ERROR.CORRUPT, at, `block size ${size} exceeds the legacy maximum ${MAX_BLOCK}`);
    if (at + 4 + size > input.length) {
      throw fail(
        DECOMPRESS_ERROR.TRUNCATED,
        input.length,
        `block at ${at} needs ${size} bytes, ${input.length - at - 4} left`,
      );
    }
    if (framed.length < 4 + size) {
      framed = new Uint8Array(4 + size);
      new DataView(framed.buffer).setUint32(0, LZ4_LEGACY_BLOCK, true);
    }
    framed.set(input.subarray(at + 4, at + 4 + size), 4);
    let block: Uint8Array;
    try {
      block = lz4.uncompressSync(framed.subarray(0, 4 + size));
    } catch (e) {
      throw fail(
        DECOMPRESS_ERROR.CORRUPT,
        at + 4,
        `block does not decode: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    at += 4 + size;
    sink.push(block, at);
  }
  return { data: sink.bytes(), end: at };
};
