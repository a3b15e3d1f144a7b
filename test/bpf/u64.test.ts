import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as u from '../../bpf/u64.ts';

const M = 1n << 64n;
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const pair = (v: bigint): Int32Array => {
  const a = new Int32Array(2);
  u.fromBigInt(a, 0, v);
  return a;
};
const val = (a: Int32Array): bigint => u.toBigInt(a[0] as number, a[1] as number);
/** Values that stress the edges: small, near 2^32, near 2^53, near 2^63 and 2^64, and uniform ones. */
const u64 = fc.oneof(
  fc.bigInt({ min: 0n, max: M - 1n }),
  fc.bigInt({ min: 0n, max: 300n }),
  fc.constantFrom(0n, 1n, 0xffffffffn, 0x100000000n, 1n << 53n, (1n << 53n) - 1n, 1n << 63n, M - 1n, M - 2n),
  fc.bigInt({ min: -300n, max: 300n }).map((v) => BigInt.asUintN(64, v + (1n << 63n))),
  fc.bigInt({ min: 0n, max: (1n << 53n) + 1000n }),
  fc.bigInt({ min: -1000n, max: 1000n }).map((v) => BigInt.asUintN(64, v)),
);

type Op2 = (a: Int32Array, d: number, lo: number, hi: number) => void;
const binary = (f: Op2, x: bigint, y: bigint): bigint => {
  const a = pair(x);
  const b = pair(y);
  f(a, 0, b[0] as number, b[1] as number);
  return val(a);
};

describe('u64 against BigInt', () => {
  const cases: [string, Op2, (x: bigint, y: bigint) => bigint][] = [
    ['add', u.add64, (x, y) => (x + y) % M],
    ['sub', u.sub64, (x, y) => BigInt.asUintN(64, x - y)],
    ['mul', u.mul64, (x, y) => (x * y) % M],
    ['divU', u.divU64, (x, y) => (y === 0n ? 0n : x / y)],
    ['modU', u.modU64, (x, y) => (y === 0n ? x : x % y)],
    ['divS', u.divS64, (x, y) => (y === 0n ? 0n : BigInt.asUintN(64, s64(x) / s64(y)))],
    ['modS', u.modS64, (x, y) => (y === 0n ? x : BigInt.asUintN(64, s64(x) % s64(y)))],
  ];
  for (const [name, f, ref] of cases) {
    it(`${name}64`, () => {
      fc.assert(
        fc.property(u64, u64, (x, y) => {
          expect(binary(f, x, y)).toBe(ref(x, y));
        }),
        { numRuns: 3000 },
      );
    });
  }

  it('division edge cases of the BPF rules', () => {
    const min = 1n << 63n;
    expect(binary(u.divS64, min, M - 1n)).toBe(min);
    expect(binary(u.modS64, min, M - 1n)).toBe(0n);
    expect(binary(u.divU64, 12345n, 0n)).toBe(0n);
    expect(binary(u.modU64, 12345n, 0n)).toBe(12345n);
    expect(binary(u.divU64, M - 1n, M - 2n)).toBe(1n);
    expect(binary(u.modU64, M - 1n, (1n << 63n) + 1n)).toBe((1n << 63n) - 2n);
  });

  it('shifts mask the count and arsh fills with the sign', () => {
    fc.assert(
      fc.property(u64, fc.integer({ min: -200, max: 200 }), (x, n) => {
        const k = BigInt(n & 63);
        const run = (f: (a: Int32Array, d: number, n: number) => void): bigint => {
          const a = pair(x);
          f(a, 0, n);
          return val(a);
        };
        expect(run(u.lsh64)).toBe((x << k) % M);
        expect(run(u.rsh64)).toBe(x >> k);
        expect(run(u.arsh64)).toBe(BigInt.asUintN(64, s64(x) >> k));
      }),
      { numRuns: 2000 },
    );
  });

  it('neg, bswap, comparisons', () => {
    fc.assert(
      fc.property(u64, u64, (x, y) => {
        const a = pair(x);
        u.neg64(a, 0);
        expect(val(a)).toBe(BigInt.asUintN(64, -x));
        const b = pair(x);
        u.bswap64(b, 0);
        let sw = 0n;
        for (let i = 0n; i < 8n; i++) sw |= ((x >> (8n * i)) & 0xffn) << (8n * (7n - i));
        expect(val(b)).toBe(sw);
        const p = pair(x);
        const q = pair(y);
        const args = [p[0], p[1], q[0], q[1]] as [number, number, number, number];
        expect(u.eq64(...args)).toBe(x === y);
        expect(u.gtU64(...args)).toBe(x > y);
        expect(u.geU64(...args)).toBe(x >= y);
        expect(u.gtS64(...args)).toBe(s64(x) > s64(y));
        expect(u.geS64(...args)).toBe(s64(x) >= s64(y));
      }),
      { numRuns: 2000 },
    );
  });

  it('32-bit division rules', () => {
    const i32 = fc.oneof(fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.constantFrom(0, -1, 1, -0x80000000));
    fc.assert(
      fc.property(i32, i32, (x, y) => {
        const ux = BigInt(x >>> 0);
        const uy = BigInt(y >>> 0);
        expect(BigInt(u.divU32(x, y) >>> 0)).toBe(uy === 0n ? 0n : ux / uy);
        expect(BigInt(u.modU32(x, y) >>> 0)).toBe(uy === 0n ? ux : ux % uy);
        const sx = BigInt(x);
        const sy = BigInt(y);
        expect(BigInt(u.divS32(x, y))).toBe(y === 0 ? 0n : BigInt.asIntN(32, sx / sy));
        expect(BigInt(u.modS32(x, y))).toBe(y === 0 ? sx : BigInt.asIntN(32, sx % sy));
      }),
      { numRuns: 3000 },
    );
    expect(u.bswap16(0x1234)).toBe(0x3412);
    expect(u.bswap32(0x11223344)).toBe(0x44332211);
    expect(u.sext32(0x80, 8)).toBe(-128);
    expect(u.sext32(0x7fff, 16)).toBe(0x7fff);
    expect(u.toHex(0x10, 0)).toBe('10');
    expect(u.toHex(0x10, 1)).toBe('100000010');
  });
});
