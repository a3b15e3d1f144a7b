/**
 * Format selection by magic, as the kernel's `decompress_method` (lib/decompress.c) does it: only the first
 * two bytes are compared, in this table's order. Each decoder then checks the rest of its own header.
 */

export const COMPRESSION_FORMATS = ['gzip', 'bzip2', 'lzma', 'xz', 'lzo', 'lz4', 'zstd'] as const;
export type CompressionFormat = (typeof COMPRESSION_FORMATS)[number];

/** The kernel's table: two magic bytes → format name. 1f 9e (old "pack"-era gzip) also maps to gzip. */
export const COMPRESSION_MAGICS: readonly {
  readonly magic: readonly [number, number];
  readonly format: CompressionFormat;
}[] = [
  { magic: [0x1f, 0x8b], format: 'gzip' },
  { magic: [0x1f, 0x9e], format: 'gzip' },
  { magic: [0x42, 0x5a], format: 'bzip2' },
  { magic: [0x5d, 0x00], format: 'lzma' },
  { magic: [0xfd, 0x37], format: 'xz' },
  { magic: [0x89, 0x4c], format: 'lzo' },
  { magic: [0x02, 0x21], format: 'lz4' },
  { magic: [0x28, 0xb5], format: 'zstd' },
];

/** The format whose magic starts `bytes` at `offset`, or undefined (also for fewer than 2 bytes). */
export const decompressMethod = (bytes: Uint8Array, offset = 0): CompressionFormat | undefined => {
  if (bytes.length - offset < 2) return undefined;
  const b0 = bytes[offset];
  const b1 = bytes[offset + 1];
  return COMPRESSION_MAGICS.find(({ magic }) => magic[0] === b0 && magic[1] === b1)?.format;
};
