/**
 * bpfLoop: a byte scan written as a bpf_loop callback (verified once for all iterations) next to the
 * same scan as a `for` loop (verified once per iteration). Both count the bytes above 0x7f in the
 * first `n` bytes of the input and stop at the first NUL; the state lives in a map, as a callback
 * reaches nothing else of its caller.
 */
import { arrayMap, bpfLoop, i32, noinline, program, u32 } from '../../../compiler/dsl/index.ts';

export const input = arrayMap({ valueSize: 256, maxEntries: 1 });
export const state = arrayMap({ valueSize: 16, maxEntries: 1 });

/** One byte: true (stop) at a NUL, else counts it when it is above 0x7f. */
const step = noinline((i: u32): boolean => {
  const d = input.lookup(0);
  const s = state.lookup(0);
  if (d === null || s === null) return true;
  const b = d.u8(i & 255);
  if (b === 0) return true;
  s.setU32(0, u32(s.u32(0) + (b >>> 7)));
  return false;
});

export const viaLoop = program({ section: 'syscall', license: 'GPL' }, () => {
  const d = input.lookup(0);
  const s = state.lookup(0);
  if (d === null || s === null) return -1;
  s.setU32(0, 0);
  const calls = bpfLoop(d.u8(0), step);
  if (calls < 0) return calls;
  return i32((s.u32(0) & 0xff) * 1000 + calls);
});

export const viaFor = program({ section: 'syscall', license: 'GPL' }, () => {
  const d = input.lookup(0);
  if (d === null) return -1;
  const n = d.u8(0);
  let high: u32 = 0;
  let calls: u32 = 0;
  for (let i: u32 = 0; i < 256 && i < n; i++) {
    calls = i + 1;
    const b = d.u8(i);
    if (b === 0) break;
    high = u32(high + (b >>> 7)) & 0xff;
  }
  return i32(high * 1000 + calls);
});

/** One byte, its index unmasked: past the input's 256 bytes the access faults (ending the program). */
const stepUnchecked = noinline((i: u32): boolean => {
  const d = input.lookup(0);
  const s = state.lookup(0);
  if (d === null || s === null) return true;
  s.setU32(0, u32(s.u32(0) + d.u8(i)) & 0xffffff);
  return false;
});

/** Sums the first n bytes, n up to 510: from 257 on, the callback's fault ends the program (natively, the BoundsFault). */
export const viaFaulting = program({ section: 'syscall', license: 'GPL' }, () => {
  const d = input.lookup(0);
  const s = state.lookup(0);
  if (d === null || s === null) return -1;
  s.setU32(0, 0);
  const calls = bpfLoop(d.u8(0) + d.u8(1), stepUnchecked);
  if (calls < 0) return calls;
  return i32(s.u32(0));
});
