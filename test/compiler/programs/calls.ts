/**
 * bpf-to-bpf calls: `noinline` functions compiled once and called. A checksum helper with a loop and
 * view accesses that may fault (the fault reaches the program as natively), a signed helper, a void
 * one that writes, and one calling another.
 */
import { arrayMap, type i32, noinline, program, type u8, type u32 } from '../../../compiler/dsl/index.ts';

export const input = arrayMap({ valueSize: 256, maxEntries: 1 });

/** Sum of `n` bytes from `off` (faults past the input, natively and compiled). */
const sum = noinline((off: u32, n: u8): u32 => {
  const d = input.lookup(0);
  if (d === null) return 0;
  let s: u32 = 0;
  for (let i: u32 = 0; i < 32 && i < n; i++) s = (s + d.u8(off + i)) >>> 0;
  return s;
});

/** A signed difference of two 16-bit fields, or a fault. */
const diff = noinline((a: u32, b: u32): i32 => {
  const d = input.lookup(0);
  if (d === null) return 0;
  return d.i16(a) - d.i16(b);
});

/** Marks byte `at` and returns nothing. */
const mark = noinline((at: u8, v: u8): void => {
  const d = input.lookup(0);
  if (d === null) return;
  d.setU8(at, v);
});

/** Calls the two others. */
const both = noinline((x: u32): u32 => (sum(x & 127, 16) + u32of(diff(x & 63, 2))) >>> 0);

const u32of = (v: i32): u32 => v >>> 0;

export const calls = program({ section: 'syscall', license: 'GPL', fault: -9 }, () => {
  const d = input.lookup(0);
  if (d === null) return -1;
  const a = sum(d.u8(0), d.u8(1));
  const b = diff(d.u8(2), d.u8(3));
  mark(4, 0x5a);
  const c = both(d.u8(5));
  return (((a + c) >>> 0) & 0xffff) | ((b & 0xff) << 16);
});
