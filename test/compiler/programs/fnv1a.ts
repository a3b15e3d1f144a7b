import { arrayMap, program, u32 } from '../../../compiler/dsl/index.ts';

export const input = arrayMap({ valueSize: 256, maxEntries: 1 });

/** FNV-1a (32-bit) of the first 64 input bytes, top bit cleared. */
export const fnv1a = program({ section: 'syscall', license: 'GPL' }, () => {
  const data = input.lookup(0);
  if (data === null) return -1;
  let h: u32 = 0x811c9dc5;
  for (let i: u32 = 0; i < 64; i++) {
    h = u32(Math.imul(h ^ data.u8(i), 0x01000193));
  }
  return h & 0x7fffffff;
});
