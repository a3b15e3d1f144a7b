/**
 * Tracked numbers ("tnums"): what is known about the bits of a 64-bit value. `mask` bit 1 = unknown bit,
 * otherwise the bit equals the corresponding bit of `value` (value & mask is always 0).
 * The algebra follows the Linux verifier's tnum semantics operation for operation, on unsigned 64-bit
 * bigints, so every result (and so every log line built from one) is the kernel's.
 */

export interface Tnum {
  readonly value: bigint;
  readonly mask: bigint;
}

export const U64 = (1n << 64n) - 1n;
export const U32 = 0xffffffffn;

const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
const tn = (value: bigint, mask: bigint): Tnum => ({ value: u64(value), mask: u64(mask) });

export const tnumConst = (value: bigint): Tnum => tn(value, 0n);
export const TNUM_UNKNOWN: Tnum = tn(0n, U64);

/** Smallest tnum containing every value of [min, max] (unsigned). */
export const tnumRange = (min: bigint, max: bigint): Tnum => {
  const chi = u64(min) ^ u64(max);
  const bits = chi === 0n ? 0 : chi.toString(2).length;
  if (bits > 63) return TNUM_UNKNOWN;
  const delta = (1n << BigInt(bits)) - 1n;
  return tn(u64(min) & ~delta, delta);
};

export const tnumLshift = (a: Tnum, shift: number): Tnum => tn(a.value << BigInt(shift), a.mask << BigInt(shift));
export const tnumRshift = (a: Tnum, shift: number): Tnum => tn(a.value >> BigInt(shift), a.mask >> BigInt(shift));

/** Arithmetic right shift in 32- or 64-bit arithmetic; the 32-bit result is zero-extended. */
export const tnumArshift = (a: Tnum, shift: number, bits: 32 | 64): Tnum => {
  const s = BigInt(shift);
  if (bits === 32) {
    return tn(BigInt.asUintN(32, BigInt.asIntN(32, a.value) >> s), BigInt.asUintN(32, BigInt.asIntN(32, a.mask) >> s));
  }
  return tn(BigInt.asIntN(64, a.value) >> s, BigInt.asIntN(64, a.mask) >> s);
};

export const tnumAdd = (a: Tnum, b: Tnum): Tnum => {
  const sm = u64(a.mask + b.mask);
  const sv = u64(a.value + b.value);
  const sigma = u64(sm + sv);
  const chi = sigma ^ sv;
  const mu = chi | a.mask | b.mask;
  return tn(sv & ~mu, mu);
};

export const tnumSub = (a: Tnum, b: Tnum): Tnum => {
  const dv = u64(a.value - b.value);
  const alpha = u64(dv + a.mask);
  const beta = u64(dv - b.mask);
  const chi = alpha ^ beta;
  const mu = chi | a.mask | b.mask;
  return tn(dv & ~mu, mu);
};

export const tnumNeg = (a: Tnum): Tnum => tnumSub(tnumConst(0n), a);

export const tnumAnd = (a: Tnum, b: Tnum): Tnum => {
  const alpha = a.value | a.mask;
  const beta = b.value | b.mask;
  const v = a.value & b.value;
  return tn(v, alpha & beta & ~v);
};

export const tnumOr = (a: Tnum, b: Tnum): Tnum => {
  const v = a.value | b.value;
  const mu = a.mask | b.mask;
  return tn(v, mu & ~v);
};

export const tnumXor = (a: Tnum, b: Tnum): Tnum => {
  const v = a.value ^ b.value;
  const mu = a.mask | b.mask;
  return tn(v & ~mu, mu);
};

/** Smallest tnum containing both operands' values (bits where they disagree become unknown). */
export const tnumUnion = (a: Tnum, b: Tnum): Tnum => {
  const v = a.value & b.value;
  const mu = (a.value ^ b.value) | a.mask | b.mask;
  return tn(v & ~mu, mu);
};

/**
 * Long multiplication over the bits of `a` (Linux 6.18): a known-1 bit adds the shifted `b`, an unknown
 * bit takes the union of adding and not adding it.
 */
export const tnumMul = (a: Tnum, b: Tnum): Tnum => {
  let acc = tnumConst(0n);
  while (a.value !== 0n || a.mask !== 0n) {
    if (a.value & 1n) acc = tnumAdd(acc, b);
    else if (a.mask & 1n) acc = tnumUnion(acc, tnumAdd(acc, b));
    a = tnumRshift(a, 1);
    b = tnumLshift(b, 1);
  }
  return acc;
};

/** Values in both (where they disagree on a known bit, the known 1 wins, as in the kernel). */
export const tnumIntersect = (a: Tnum, b: Tnum): Tnum => {
  const v = a.value | b.value;
  const mu = a.mask & b.mask;
  return tn(v & ~mu, mu);
};

/** Truncation to `size` bytes. */
export const tnumCast = (a: Tnum, size: number): Tnum => {
  const m = (1n << BigInt(size * 8)) - 1n;
  return tn(a.value & m, a.mask & m);
};

export const tnumIsAligned = (a: Tnum, size: bigint): boolean =>
  size === 0n || ((a.value | a.mask) & (size - 1n)) === 0n;

/** True if every value of b is a value of a. */
export const tnumIn = (a: Tnum, b: Tnum): boolean => {
  // A constant contains only itself (the general test below, without its bigint temporaries).
  if (a.mask === 0n) return b.mask === 0n && a.value === b.value;
  if (b.mask & ~a.mask) return false;
  return a.value === (b.value & ~a.mask);
};

/** Bits needed for a u64 (fls64): 0 for 0. Runs on every bounds sync, so no bigint-to-string. */
const bitLength = (x: bigint): number => {
  const hi = Number(x >> 32n);
  return hi !== 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(Number(x & U32));
};

/**
 * tnum_step: the least member of `t` above `z` (for t.value <= z < tmax); t.value below that range and
 * tmax at or above it. Members are t.value + s for the submasks s of t.mask (value and mask share no
 * bit), so this is the least submask above d = z - t.value: d with every non-mask bit, and every bit
 * below its highest non-mask bit, set to 1 makes +1 carry straight to the next mask bit that can grow.
 */
export const tnumStep = (t: Tnum, z: bigint): bigint => {
  const tmax = t.value | t.mask;
  if (z >= tmax) return tmax;
  if (z < t.value) return t.value;
  const d = z - t.value;
  const below = (1n << BigInt(bitLength(d & ~t.mask & U64))) - 1n;
  return t.value | ((((d | below | (~t.mask & U64)) & U64) + 1n) & t.mask);
};

export const tnumIsConst = (a: Tnum): boolean => a.mask === 0n;
export const tnumEqualsConst = (a: Tnum, v: bigint): boolean => a.mask === 0n && a.value === u64(v);
export const tnumIsUnknown = (a: Tnum): boolean => a.mask === U64;
export const tnumEquals = (a: Tnum, b: Tnum): boolean => a.value === b.value && a.mask === b.mask;

/** The low 32 bits (the sub-register). */
export const tnumSubreg = (a: Tnum): Tnum => tnumCast(a, 4);
export const tnumClearSubreg = (a: Tnum): Tnum => tnumLshift(tnumRshift(a, 32), 32);
/** `reg` with its low 32 bits replaced by those of `subreg`. */
export const tnumWithSubreg = (reg: Tnum, subreg: Tnum): Tnum => tnumOr(tnumClearSubreg(reg), tnumSubreg(subreg));
export const tnumConstSubreg = (a: Tnum, value: bigint): Tnum => tnumWithSubreg(a, tnumConst(value));
export const tnumSubregIsConst = (a: Tnum): boolean => (a.mask & U32) === 0n;

/**
 * `(0x0; 0xff)`: tnum_strn's "%#llx" as the kernel's own vsnprintf prints it (unlike glibc, 0 gets its
 * 0x prefix too).
 */
export const tnumToString = (a: Tnum): string => `(0x${a.value.toString(16)}; 0x${a.mask.toString(16)})`;
