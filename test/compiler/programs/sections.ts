/**
 * A PE section-table walk written with the DSL's control flow: the section table as a sub-view of a
 * run-time length (bounded by early returns, which narrow the ranges), a `while` over it, a `switch`
 * on what each name's first word is, a `do … while` checksum of the headers, arrow functions, and
 * constants and a table imported from another DSL file. Returns a summary word, or a negative error.
 */
import { arrayMap, program, type u32, u8 } from '../../../compiler/dsl/index.ts';
import {
  CMDLINE,
  HEADER_ROOM,
  INITRD,
  LINUX,
  MAX_SECTIONS,
  MZ,
  NAMES,
  OSREL,
  PE_SIG,
  SECTION_HEADER_SIZE,
  TABLE_ROOM,
} from './pe-consts.ts';

export const input = arrayMap({ valueSize: 1024, maxEntries: 1 });

/** Which of NAMES a section's first name word is (NAMES.length when none). */
const kindOf = (word: u32): u32 => {
  let k: u32 = 0;
  while (k < NAMES.length && NAMES.at(k) !== word) k++;
  return k;
};

const rotl = (x: u32, n: u32): u32 => ((x << (n & 31)) | (x >>> ((32 - n) & 31))) >>> 0;

export const sections = program({ section: 'syscall', license: 'GPL', fault: -9 }, () => {
  const data = input.lookup(0);
  if (data === null) return -1;
  if (data.u16(0) !== MZ) return -2;
  const pe = data.u32(0x3c);
  if (pe > HEADER_ROOM - 24) return -3;
  if (data.u32(pe) !== PE_SIG) return -4; // no check: pe ≤ 488 after the early return
  const count = data.u16(pe + 6);
  if (count === 0 || count > MAX_SECTIONS) return -5;
  const first = pe + 24 + data.u16(pe + 20);
  if (first > HEADER_ROOM) return -6;
  const table = data.sub(first, count * SECTION_HEADER_SIZE); // count ≤ 12: 480 bytes at most
  if (table.size > TABLE_ROOM) return -7;
  // three 8-bit counts in one word: .linux sections, initrd-like ones, others
  let counts: u32 = 0;
  let i: u32 = 0;
  while (i < MAX_SECTIONS && i < count) {
    const at = i * SECTION_HEADER_SIZE;
    switch (table.u32(at)) {
      case LINUX:
        counts = (counts + (1 << 16)) >>> 0;
        break;
      case INITRD:
      case CMDLINE:
        counts = (counts + (1 << 8)) >>> 0;
        break;
      case OSREL:
        return -8;
      default:
        counts = u8(counts + 1) | (counts & 0xffff00);
    }
    i++;
  }
  let sum: u32 = 0;
  let k: u32 = 0;
  do {
    sum = rotl((sum ^ table.u32(k * 4)) >>> 0, 5);
    k++;
  } while (k < 16 && k * 4 + 4 <= table.size);
  return ((counts << 8) | (sum & 0xf0) | kindOf(table.u32(0))) & 0x7fffffff;
});
