/**
 * BPF_ATOMIC read-modify-write on 4 or 8 bytes at `lo` of a region's view (the address is already
 * checked): add/or/and/xor, each optionally FETCH (src := old value), XCHG (src <-> memory) and
 * CMPXCHG (if memory == R0 — the low 32 bits for W — store src; R0 := old value). Old values written to
 * registers are zero-extended for 32-bit forms. JavaScript runs one program at a time, so plain
 * read-then-write is atomic here.
 */
import { AtomicOp } from '../../bpf/isa/index.ts';
import { add64 } from '../../bpf/u64.ts';

/** old lo/hi at 0/1, new lo/hi at 2/3. Module-private scratch. */
const T = new Int32Array(4);

export const atomicRmw = (R: Int32Array, s: number, v: DataView, lo: number, op: number, size: 4 | 8): void => {
  T[0] = v.getInt32(lo, true);
  T[1] = size === 8 ? v.getInt32(lo + 4, true) : 0;
  T[2] = T[0] as number;
  T[3] = T[1] as number;
  const base = op & ~AtomicOp.FETCH;
  if (op === AtomicOp.CMPXCHG) {
    const same = size === 8 ? T[0] === R[0] && T[1] === R[1] : T[0] === R[0];
    if (same) {
      T[2] = R[s] as number;
      T[3] = R[s + 1] as number;
    }
  } else if (op === AtomicOp.XCHG) {
    T[2] = R[s] as number;
    T[3] = R[s + 1] as number;
  } else if (base === AtomicOp.ADD) add64(T, 2, R[s] as number, R[s + 1] as number);
  else if (base === AtomicOp.OR) {
    T[2] = (T[2] as number) | (R[s] as number);
    T[3] = (T[3] as number) | (R[s + 1] as number);
  } else if (base === AtomicOp.AND) {
    T[2] = (T[2] as number) & (R[s] as number);
    T[3] = (T[3] as number) & (R[s + 1] as number);
  } else {
    T[2] = (T[2] as number) ^ (R[s] as number);
    T[3] = (T[3] as number) ^ (R[s + 1] as number);
  }
  v.setInt32(lo, T[2] as number, true);
  if (size === 8) v.setInt32(lo + 4, T[3] as number, true);
  const out = op === AtomicOp.CMPXCHG ? 0 : (op & AtomicOp.FETCH) !== 0 ? s : -1;
  if (out >= 0) {
    R[out] = T[0] as number;
    R[out + 1] = T[1] as number;
  }
};
