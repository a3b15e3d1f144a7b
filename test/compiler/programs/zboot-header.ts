import { arrayMap, program } from '../../../compiler/dsl/index.ts';

export const input = arrayMap({ valueSize: 256, maxEntries: 1 });

/** EFI zboot header check: 1 gzip, 2 zstd, 3 lz4, 4 xz; negative when invalid. */
export const zbootHeader = program({ section: 'syscall', license: 'GPL' }, () => {
  const d = input.lookup(0);
  if (d === null) return -1;
  if (d.u16(0) !== 0x5a4d) return -2;
  if (d.u32(4) !== 0x676d697a) return -3;
  const offset = d.u32(8);
  const size = d.u32(12);
  if (offset + size > 0x10000000 || size === 0) return -4;
  const c = d.u32(24);
  if (c === 0x70697a67) return 1;
  if (c === 0x6474737a) return 2;
  if (c === 0x00347a6c) return 3;
  if (c === 0x00007a78) return 4;
  return -5;
});
