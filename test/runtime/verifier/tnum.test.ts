import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { syncBounds, unboundedBounds } from '../../../runtime/verifier/domain/bounds.ts';
import {
  type Tnum,
  tnumAdd,
  tnumAnd,
  tnumConst,
  tnumIn,
  tnumMul,
  tnumOr,
  tnumRange,
  tnumStep,
  tnumSub,
  tnumToString,
  tnumXor,
} from '../../../runtime/verifier/domain/tnum.ts';

const BYTE: Tnum = { value: 0n, mask: 0xffn };
const contains = (t: Tnum, v: bigint): boolean => (v & ~t.mask) === t.value;

describe('tnum algebra (kernel values)', () => {
  it('byte load OR 0x40 then +1, as the kernel logs them', () => {
    expect(tnumToString(BYTE)).toBe('(0x0; 0xff)');
    const or = tnumOr(BYTE, tnumConst(0x40n));
    expect(tnumToString(or)).toBe('(0x40; 0xbf)');
    expect(tnumToString(tnumAdd(or, tnumConst(1n)))).toBe('(0x0; 0x1ff)');
  });
  it('range and constants', () => {
    expect(tnumRange(0n, 255n)).toEqual(BYTE);
    expect(tnumRange(9n, 9n)).toEqual(tnumConst(9n));
    expect(tnumRange(0n, (1n << 64n) - 1n).mask).toBe((1n << 64n) - 1n);
  });
  const arbTnum = fc
    .tuple(fc.bigInt({ min: 0n, max: 255n }), fc.bigInt({ min: 0n, max: 255n }))
    .map(([v, m]) => ({ value: v & ~m, mask: m }));
  const members = (t: Tnum): bigint[] => {
    const out: bigint[] = [];
    for (let x = 0n; x < 256n; x++) if (contains(t, x)) out.push(x);
    return out;
  };
  it('operations are sound on every member pair (8-bit operands)', () => {
    const ops: [string, (a: Tnum, b: Tnum) => Tnum, (x: bigint, y: bigint) => bigint][] = [
      ['add', tnumAdd, (x, y) => x + y],
      ['sub', tnumSub, (x, y) => BigInt.asUintN(64, x - y)],
      ['and', tnumAnd, (x, y) => x & y],
      ['or', tnumOr, (x, y) => x | y],
      ['xor', tnumXor, (x, y) => x ^ y],
      ['mul', tnumMul, (x, y) => x * y],
    ];
    fc.assert(
      fc.property(arbTnum, arbTnum, (a, b) => {
        const xs = members(a).slice(0, 8);
        const ys = members(b).slice(0, 8);
        for (const [, f, g] of ops) {
          const r = f(a, b);
          for (const x of xs) for (const y of ys) if (!contains(r, g(x, y))) return false;
        }
        return true;
      }),
      { numRuns: 200 },
    );
  });
  it('tnum_step is the least member above z (8-bit tnums, every z, against enumeration)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (v, m) => {
        const t: Tnum = { value: BigInt(v & ~m), mask: BigInt(m) };
        const members = [...Array(256).keys()].map(BigInt).filter((x) => contains(t, x));
        const tmax = t.value | t.mask;
        for (let z = 0n; z < 256n; z++) {
          const want = z >= tmax ? tmax : (members.find((x) => x > z) as bigint);
          expect(tnumStep(t, z)).toBe(want);
        }
      }),
      { numRuns: 300 },
    );
    // bits above 32: the non-mask bit of d and the next member both sit in the high word
    expect(tnumStep({ value: 0n, mask: 0xf000000000000000n }, 0x1000000000000001n)).toBe(0x2000000000000000n);
    expect(tnumStep({ value: 1n, mask: 0xffff000000000000n }, 0x0001000000000005n)).toBe(0x0002000000000001n);
    expect(tnumStep({ value: 0x100000000n, mask: 0xff00000000000000n }, 0x0100000200000000n)).toBe(0x0200000100000000n);
  });

  it('tnum_in', () => {
    expect(tnumIn(BYTE, tnumConst(7n))).toBe(true);
    expect(tnumIn(tnumConst(7n), BYTE)).toBe(false);
  });
});

describe('bounds sync', () => {
  it('a byte load syncs to the ranges the kernel prints', () => {
    const b = unboundedBounds();
    b.varOff = BYTE;
    syncBounds(b);
    expect([b.smin, b.smax, b.umin, b.umax, b.s32min, b.s32max, b.u32min, b.u32max]).toEqual([
      0n,
      255n,
      0n,
      255n,
      0n,
      255n,
      0n,
      255n,
    ]);
  });
});
