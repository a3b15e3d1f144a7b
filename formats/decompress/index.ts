/** The kernel's decompressors (gzip, bzip2, lzma, xz, lzo, lz4 legacy, zstd) with a cap and typed errors. */
export { bzip2StreamEnds } from './bzip2.ts';
export { adler32 } from './checksum.ts';
export {
  type DecompressIntoOptions,
  type DecompressIntoResult,
  type DecompressOptions,
  type DecompressResult,
  decompress,
  decompressInto,
  decompressSync,
  prepareDecompressors,
} from './decompress.ts';
export { DECOMPRESS_ERROR, DecompressError, type DecompressErrorCode } from './errors.ts';
export { LZ4_LEGACY_BLOCK, LZ4_LEGACY_MAGIC } from './lz4.ts';
export { LZO_FAULT, type LzoFault, LzoFaultError, lzo1xDecode } from './lzo1x.ts';
export { LZO_BLOCK_SIZE, LZOP_MAGIC } from './lzop.ts';
export { COMPRESSION_FORMATS, COMPRESSION_MAGICS, type CompressionFormat, decompressMethod } from './method.ts';
