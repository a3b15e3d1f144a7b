import { arrayMap, program } from '../../../compiler/dsl/index.ts';

export const input = arrayMap({ valueSize: 256, maxEntries: 1 });

/** memcmp(data, data + 32, 32): -1, 0 or 1. */
export const memcmp = program({ section: 'syscall', license: 'GPL' }, () => {
  const data = input.lookup(0);
  if (data === null) return -2;
  for (let i: u32 = 0; i < 32; i++) {
    const a = data.u8(i);
    const b = data.u8(i + 32);
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
});

import type { u32 } from '../../../compiler/dsl/index.ts';
