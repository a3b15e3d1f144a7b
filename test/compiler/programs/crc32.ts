import { arrayMap, i32, program, table, u32 } from '../../../compiler/dsl/index.ts';

export const input = arrayMap({ valueSize: 256, maxEntries: 1 });

/** CRC-32 (reflected 0xEDB88320) of one nibble, in .rodata. */
const NIBBLE = table(
  'u32',
  [
    0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c, 0xedb88320,
    0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
  ],
);

/** Signed offsets, read at a data-dependent index (out of range: the fault value). */
const DELTA = table('i8', [-3, -2, -1, 0, 1, 2, 3]);

/** CRC-32 of the first input[0] bytes after the header byte, as zlib computes it. */
export const crc32 = program({ section: 'syscall', license: 'GPL' }, () => {
  const d = input.lookup(0);
  if (d === null) return -1;
  let crc: u32 = 0xffffffff;
  for (let i: u32 = 1; i < 255 && i <= d.u8(0); i++) {
    const b = d.u8(i);
    crc = u32((crc >>> 4) ^ NIBBLE.at((crc ^ b) & 15));
    crc = u32((crc >>> 4) ^ NIBBLE.at((crc ^ (b >> 4)) & 15));
  }
  return i32(~crc);
});

/** DELTA[input[0]] + table length: faults (-9) for input[0] ≥ 7. */
export const delta = program({ section: 'syscall', license: 'GPL', fault: -9 }, () => {
  const d = input.lookup(0);
  if (d === null) return -1;
  return DELTA.at(d.u8(0)) + DELTA.length;
});
