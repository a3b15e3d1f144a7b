/**
 * Exact 64-bit integer arithmetic without BigInt, the one module for it (interpreter, verifier, compiler).
 *
 * Representation: a value is a pair of int32 halves (lo, hi) stored at `a[i]` and `a[i + 1]` of an
 * Int32Array. Operations write their result in place into such a pair (`a[d]`, `a[d + 1]`), so the
 * interpreter's register file is just an Int32Array and nothing is allocated per operation. Measured on
 * Node 20: BigUint64Array/BigInt arithmetic allocates a heap BigInt per read and is ~20x slower; doubles
 * lose precision above 2^53. Scalars are read as `lo >>> 0` (unsigned) or `hi` (signed high half).
 *
 * BPF rules (RFC 9669 §4.1) live here: division by zero gives 0, modulo by zero leaves the dividend,
 * INT_MIN / -1 wraps to INT_MIN and INT_MIN % -1 is 0; shift counts are masked by the caller's width.
 */

const TWO32 = 4294967296;
/** 2^53 / 2^32: values whose high half is below this are exact in a double. */
const EXACT_HI = 0x200000;

/** The high 32 bits (as int32) of the 64-bit product of two u32 values. */
export const mulhiU32 = (a: number, b: number): number => {
  const p = a * b;
  // Below 2^53 the double product is exact (and a rounded product at or above it means the exact one is too).
  if (p < 9007199254740992) return (p / TWO32) | 0;
  // a * b = p1 * 2^16 + p0 with both partial products below 2^48, so exact in doubles.
  const p0 = (a & 0xffff) * b;
  const p1 = (a >>> 16) * b;
  return Math.floor((p1 + Math.floor(p0 / 65536)) / 65536) | 0;
};

/** a[d] += (lo, hi) */
export const add64 = (a: Int32Array, d: number, lo: number, hi: number): void => {
  const x = a[d] as number;
  const r = (x + lo) | 0;
  a[d] = r;
  // Carry out of the low half: the unsigned sum wrapped below an addend.
  a[d + 1] = ((a[d + 1] as number) + hi + (r >>> 0 < x >>> 0 ? 1 : 0)) | 0;
};

/** a[d] -= (lo, hi) */
export const sub64 = (a: Int32Array, d: number, lo: number, hi: number): void => {
  const x = a[d] as number;
  a[d] = (x - lo) | 0;
  a[d + 1] = ((a[d + 1] as number) - hi - (x >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
};

/** a[d] = -a[d] */
export const neg64 = (a: Int32Array, d: number): void => {
  const lo = a[d] as number;
  a[d] = -lo | 0;
  a[d + 1] = (~(a[d + 1] as number) + (lo === 0 ? 1 : 0)) | 0;
};

/** a[d] *= (lo, hi), low 64 bits of the product. */
export const mul64 = (a: Int32Array, d: number, lo: number, hi: number): void => {
  const al = a[d] as number;
  const ah = a[d + 1] as number;
  a[d] = Math.imul(al, lo);
  a[d + 1] = (mulhiU32(al >>> 0, lo >>> 0) + Math.imul(al, hi) + Math.imul(ah, lo)) | 0;
};

/** a[d] = (lo, hi) (a copy) */
export const set64 = (a: Int32Array, d: number, lo: number, hi: number): void => {
  a[d] = lo;
  a[d + 1] = hi;
};

/** Logical left shift by n & 63. */
export const lsh64 = (a: Int32Array, d: number, n: number): void => {
  n &= 63;
  if (n === 0) return;
  const lo = a[d] as number;
  if (n < 32) {
    a[d + 1] = ((a[d + 1] as number) << n) | (lo >>> (32 - n));
    a[d] = lo << n;
  } else {
    a[d + 1] = lo << (n - 32);
    a[d] = 0;
  }
};

/** Logical right shift by n & 63. */
export const rsh64 = (a: Int32Array, d: number, n: number): void => {
  n &= 63;
  if (n === 0) return;
  const hi = a[d + 1] as number;
  if (n < 32) {
    a[d] = ((a[d] as number) >>> n) | (hi << (32 - n));
    a[d + 1] = hi >>> n;
  } else {
    a[d] = hi >>> (n - 32);
    a[d + 1] = 0;
  }
};

/** Arithmetic right shift by n & 63. */
export const arsh64 = (a: Int32Array, d: number, n: number): void => {
  n &= 63;
  if (n === 0) return;
  const hi = a[d + 1] as number;
  if (n < 32) {
    a[d] = ((a[d] as number) >>> n) | (hi << (32 - n));
    a[d + 1] = hi >> n;
  } else {
    a[d] = hi >> (n - 32);
    a[d + 1] = hi >> 31;
  }
};

// ---- division ------------------------------------------------------------------------------------

/** Scratch for udivmod64: quotient lo/hi, remainder lo/hi. Module-private, never escapes. */
const QR = new Int32Array(4);

/** Unsigned 64/64 division into QR; the divisor is non-zero. */
const udivmod64 = (nlo: number, nhi: number, dlo: number, dhi: number): void => {
  const nh = nhi >>> 0;
  const dh = dhi >>> 0;
  if (nh < EXACT_HI && dh < EXACT_HI) {
    // Both below 2^53: a double division rounds correctly and floor() is exact (|n| < 2^53).
    const n = nh * TWO32 + (nlo >>> 0);
    const dv = dh * TWO32 + (dlo >>> 0);
    const q = Math.floor(n / dv);
    const r = n - q * dv;
    QR[0] = q | 0;
    QR[1] = Math.floor(q / TWO32) | 0;
    QR[2] = r | 0;
    QR[3] = Math.floor(r / TWO32) | 0;
    return;
  }
  // Restoring binary long division, one quotient bit per step, all in 32-bit halves.
  let qlo = 0;
  let qhi = 0;
  let rlo = 0;
  let rhi = 0;
  const dl = dlo >>> 0;
  for (let i = 63; i >= 0; i--) {
    // r = r << 1 | bit i of n; a bit shifted out of r means r >= 2^64 > d (possible when d >= 2^63).
    const out = rhi >>> 31;
    rhi = ((rhi << 1) | (rlo >>> 31)) >>> 0;
    const bit = i >= 32 ? (nhi >>> (i - 32)) & 1 : (nlo >>> i) & 1;
    rlo = ((rlo << 1) | bit) >>> 0;
    if (out === 1 || rhi > dh || (rhi === dh && rlo >= dl)) {
      const l = rlo - dl;
      rhi = (rhi - dh - (l < 0 ? 1 : 0)) >>> 0;
      rlo = l >>> 0;
      if (i >= 32) qhi |= 1 << (i - 32);
      else qlo |= 1 << i;
    }
  }
  QR[0] = qlo;
  QR[1] = qhi;
  QR[2] = rlo | 0;
  QR[3] = rhi | 0;
};

/** Unsigned a[d] /= (lo, hi); division by zero gives 0. */
export const divU64 = (a: Int32Array, d: number, lo: number, hi: number): void => {
  if (lo === 0 && hi === 0) {
    a[d] = 0;
    a[d + 1] = 0;
    return;
  }
  udivmod64(a[d] as number, a[d + 1] as number, lo, hi);
  a[d] = QR[0] as number;
  a[d + 1] = QR[1] as number;
};

/** Unsigned a[d] %= (lo, hi); modulo by zero leaves a[d] unchanged. */
export const modU64 = (a: Int32Array, d: number, lo: number, hi: number): void => {
  if (lo === 0 && hi === 0) return;
  udivmod64(a[d] as number, a[d + 1] as number, lo, hi);
  a[d] = QR[2] as number;
  a[d + 1] = QR[3] as number;
};

/** Two's-complement magnitude of a signed pair, as an unsigned pair in QR-compatible scratch. */
const ABS = new Int32Array(4);
const absInto = (i: number, lo: number, hi: number): void => {
  if (hi < 0) {
    ABS[i] = -lo | 0;
    ABS[i + 1] = (~hi + (lo === 0 ? 1 : 0)) | 0;
  } else {
    ABS[i] = lo;
    ABS[i + 1] = hi;
  }
};

/** Signed a[d] /= (lo, hi), truncating toward zero; by zero gives 0; INT64_MIN / -1 wraps. */
export const divS64 = (a: Int32Array, d: number, lo: number, hi: number): void => {
  if (lo === 0 && hi === 0) {
    a[d] = 0;
    a[d + 1] = 0;
    return;
  }
  const nhi = a[d + 1] as number;
  absInto(0, a[d] as number, nhi);
  absInto(2, lo, hi);
  udivmod64(ABS[0] as number, ABS[1] as number, ABS[2] as number, ABS[3] as number);
  a[d] = QR[0] as number;
  a[d + 1] = QR[1] as number;
  if (nhi < 0 !== hi < 0) neg64(a, d);
};

/** Signed a[d] %= (lo, hi), C semantics (sign of the dividend); by zero leaves a[d]; INT64_MIN % -1 = 0. */
export const modS64 = (a: Int32Array, d: number, lo: number, hi: number): void => {
  if (lo === 0 && hi === 0) return;
  const nhi = a[d + 1] as number;
  absInto(0, a[d] as number, nhi);
  absInto(2, lo, hi);
  udivmod64(ABS[0] as number, ABS[1] as number, ABS[2] as number, ABS[3] as number);
  a[d] = QR[2] as number;
  a[d + 1] = QR[3] as number;
  if (nhi < 0) neg64(a, d);
};

// ---- 32-bit forms (results are int32; the caller zero-extends into the high half) ------------------

export const divU32 = (x: number, y: number): number => (y === 0 ? 0 : ((x >>> 0) / (y >>> 0)) | 0);
export const modU32 = (x: number, y: number): number => (y === 0 ? x | 0 : ((x >>> 0) % (y >>> 0)) | 0);
export const divS32 = (x: number, y: number): number => {
  if (y === 0) return 0;
  x |= 0;
  y |= 0;
  if (x === -0x80000000 && y === -1) return x;
  return (x / y) | 0;
};
export const modS32 = (x: number, y: number): number => {
  x |= 0;
  y |= 0;
  if (y === 0) return x;
  return (x % y) | 0;
};

// ---- byte order and sign extension --------------------------------------------------------------

export const bswap16 = (x: number): number => ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
export const bswap32 = (x: number): number =>
  ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);

/** a[d] = bswap64(a[d]) */
export const bswap64 = (a: Int32Array, d: number): void => {
  const lo = a[d] as number;
  a[d] = bswap32(a[d + 1] as number);
  a[d + 1] = bswap32(lo);
};

/** Sign-extends the low `bits` (8, 16, 32) of x to an int32. */
export const sext32 = (x: number, bits: 8 | 16 | 32): number =>
  bits === 32 ? x | 0 : (x << (32 - bits)) >> (32 - bits);

// ---- comparisons ---------------------------------------------------------------------------------

export const eq64 = (alo: number, ahi: number, blo: number, bhi: number): boolean => alo === blo && ahi === bhi;
export const gtU64 = (alo: number, ahi: number, blo: number, bhi: number): boolean =>
  ahi === bhi ? alo >>> 0 > blo >>> 0 : ahi >>> 0 > bhi >>> 0;
export const geU64 = (alo: number, ahi: number, blo: number, bhi: number): boolean =>
  ahi === bhi ? alo >>> 0 >= blo >>> 0 : ahi >>> 0 > bhi >>> 0;
export const gtS64 = (alo: number, ahi: number, blo: number, bhi: number): boolean =>
  ahi === bhi ? alo >>> 0 > blo >>> 0 : ahi > bhi;
export const geS64 = (alo: number, ahi: number, blo: number, bhi: number): boolean =>
  ahi === bhi ? alo >>> 0 >= blo >>> 0 : ahi > bhi;

// ---- API edges: bigint and text ------------------------------------------------------------------

/** The pair as an unsigned bigint (API edges only; never in a hot loop). */
export const toBigInt = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

/** The pair as a signed bigint. */
export const toBigIntSigned = (lo: number, hi: number): bigint => BigInt.asIntN(64, toBigInt(lo, hi));

/** Stores a bigint (taken mod 2^64) as a pair. */
export const fromBigInt = (a: Int32Array, d: number, v: bigint): void => {
  const u = BigInt.asUintN(64, v);
  a[d] = Number(u & 0xffffffffn) | 0;
  a[d + 1] = Number(u >> 32n) | 0;
};

/** Lower-case hex without leading zeros, as `printf("%lx")` prints a u64. */
export const toHex = (lo: number, hi: number): string =>
  hi === 0 ? (lo >>> 0).toString(16) : (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, '0');
