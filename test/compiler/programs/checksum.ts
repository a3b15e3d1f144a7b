import { arrayMap, program, u32 } from '../../../compiler/dsl/index.ts';

export const input = arrayMap({ valueSize: 256, maxEntries: 1 });

/** 16-bit sum of the 256 input bytes. */
export const checksum = program({ section: 'syscall', license: 'GPL' }, () => {
  const data = input.lookup(0);
  if (data === null) return -1;
  let sum: u32 = 0;
  for (let i: u32 = 0; i < 256; i++) {
    sum = u32(sum + data.u8(i));
  }
  return sum & 0xffff;
});
