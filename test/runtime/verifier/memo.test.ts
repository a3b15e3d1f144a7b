/**
 * The speed machinery must not change a single result: the memoised bounds transfers against their
 * direct computation, the memo table's collision handling, and the worklist data-flow solver against
 * the plain round-robin fixpoint.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Bounds,
  BoundsMemo,
  cloneBounds,
  computeSyncBounds,
  knownBounds,
  syncBounds,
  unboundedBounds,
} from '../../../runtime/verifier/domain/bounds.ts';
import {
  computeScalarAlu,
  type ScalarOp,
  scalarAlu,
  scalarAluImm,
} from '../../../runtime/verifier/domain/scalar-alu.ts';
import { tnumRange } from '../../../runtime/verifier/domain/tnum.ts';
import { backwardMasks, flowGraph, successors } from '../../../runtime/verifier/liveness.ts';
import { fromRawSlots, type ProgSlot } from '../../../runtime/verifier/program.ts';

const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const u32 = (x: bigint): bigint => BigInt.asUintN(32, x);
const s32 = (x: bigint): bigint => BigInt.asIntN(32, x);

/** Values where bounds arithmetic has its edge cases: 0, ±1, the sign bits, the width limits. */
const EDGES = [0n, 1n, 2n, 7n, 0xffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 1n << 32n, 1n << 63n, -1n, -2n, -8n];
const word = fc.oneof(fc.constantFrom(...EDGES), fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }));

/** A plausible register: a constant, a range, a tnum-shaped value, or unknown. */
const bounds: fc.Arbitrary<Bounds> = fc.oneof(
  word.map((v) => knownBounds(v)),
  fc.constant(unboundedBounds()),
  fc.tuple(word, word).map(([a, b]) => {
    const [lo, hi] = u64(a) <= u64(b) ? [u64(a), u64(b)] : [u64(b), u64(a)];
    const r = unboundedBounds();
    r.umin = lo;
    r.umax = hi;
    r.varOff = tnumRange(lo, hi);
    return r;
  }),
  fc.tuple(word, word, word, word).map(([a, b, c, d]) => {
    // arbitrary, even inconsistent, fields: the memo must agree on any input
    const r = unboundedBounds();
    r.smin = s64(a);
    r.smax = s64(b);
    r.s32min = s32(c);
    r.u32max = u32(d);
    return r;
  }),
);

const OPS: ScalarOp[] = ['add', 'sub', 'mul', 'div', 'and', 'or', 'xor', 'lsh', 'rsh', 'arsh'];

describe('memoised bounds transfers', () => {
  it('syncBounds equals reg_bounds_sync computed directly, first time and on repeats', () => {
    fc.assert(
      fc.property(
        fc.array(bounds, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 24 }),
        (pool, picks) => {
          // picking from a small pool repeats inputs, so later rounds are answered by the memo
          for (const k of [0, ...picks]) {
            const input = pool[k % pool.length] as Bounds;
            const want = cloneBounds(input);
            computeSyncBounds(want);
            const got = cloneBounds(input);
            syncBounds(got);
            expect(got).toEqual(want);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('scalarAlu and scalarAluImm equal the direct transfer, first time and on repeats', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...OPS), bounds, bounds, fc.boolean(), fc.integer()), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.array(fc.nat(), { maxLength: 16 }),
        (pool, picks) => {
          for (const k of [0, ...picks]) {
            const [op, d, src, alu32, imm] = pool[k % pool.length] as [ScalarOp, Bounds, Bounds, boolean, number];
            const want = cloneBounds(d);
            computeScalarAlu(op, want, cloneBounds(src), alu32);
            const got = cloneBounds(d);
            scalarAlu(op, got, src, alu32);
            expect(got).toEqual(want);
            const wantImm = cloneBounds(d);
            computeScalarAlu(op, wantImm, knownBounds(BigInt(imm)), alu32);
            const gotImm = cloneBounds(d);
            scalarAluImm(op, gotImm, imm, alu32);
            expect(gotImm).toEqual(wantImm);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('scalarAlu with dst and src the same register reads the source before the write', () => {
    const r = knownBounds(5n);
    scalarAlu('add', r, r, false);
    expect(r).toEqual(knownBounds(10n));
    scalarAlu('add', r, r, false);
    expect(r).toEqual(knownBounds(20n));
  });

  it('answers only for the exact input: another input in the same slot, or another tag, misses', () => {
    const memo = new BoundsMemo();
    const a = knownBounds(1n);
    const b = knownBounds(2n);
    const out = knownBounds(3n);
    const slot = memo.slot(7, a, undefined);
    memo.put(slot, 7, cloneBounds(a), undefined, out);
    expect(memo.get(slot, 7, a, undefined)).toEqual(out);
    expect(memo.get(slot, 7, b, undefined)).toBeUndefined();
    expect(memo.get(slot, 8, a, undefined)).toBeUndefined();
    expect(memo.get(slot, 7, a, b)).toBeUndefined();
    // the stored result is a copy: changing the caller's object afterwards does not reach it
    out.umin = 99n;
    expect(memo.get(slot, 7, a, undefined)?.umin).toBe(3n);
  });
});

/** The round-robin fixpoint the worklist replaced, as the reference. */
const roundRobin = (prog: readonly ProgSlot[], before: (i: number, after: number) => number): Uint16Array => {
  const n = prog.length;
  const at = new Uint16Array(n);
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = n - 1; i >= 0; i--) {
      if (prog[i]?.continuation) continue;
      let out = 0;
      for (const t of successors(prog, i)) if (t >= 0 && t < n) out |= at[t] as number;
      const inn = before(i, out) & 0x7ff;
      if (inn !== at[i]) {
        at[i] = inn;
        changed = true;
      }
    }
  }
  return at;
};

/** Random control flow: moves, lddw, conditional jumps and gotos anywhere (loops too), exits. */
const program = fc
  .array(
    fc.oneof(
      fc.record({ code: fc.constant(0xbf), dst: fc.nat(9), src: fc.nat(10), off: fc.constant(0), imm: fc.constant(0) }),
      fc.record({
        code: fc.constant(0x18),
        dst: fc.nat(9),
        src: fc.constant(0),
        off: fc.constant(0),
        imm: fc.integer(),
      }),
      fc.record({
        code: fc.constant(0x15),
        dst: fc.nat(9),
        src: fc.constant(0),
        off: fc.integer({ min: -12, max: 12 }),
        imm: fc.constant(0),
      }),
      fc.record({
        code: fc.constant(0x05),
        dst: fc.constant(0),
        src: fc.constant(0),
        off: fc.integer({ min: -12, max: 12 }),
        imm: fc.constant(0),
      }),
      fc.record({
        code: fc.constant(0x95),
        dst: fc.constant(0),
        src: fc.constant(0),
        off: fc.constant(0),
        imm: fc.constant(0),
      }),
    ),
    { minLength: 1, maxLength: 40 },
  )
  .map((raws) =>
    fromRawSlots(raws.flatMap((r) => (r.code === 0x18 ? [r, { code: 0, dst: 0, src: 0, off: 0, imm: 0 }] : [r]))),
  );

describe('worklist data flow', () => {
  it('backwardMasks gives the round-robin least fixpoint of any gen/kill problem', () => {
    fc.assert(
      fc.property(
        program,
        fc.array(fc.tuple(fc.nat(0x7ff), fc.nat(0x7ff)), { minLength: 64, maxLength: 64 }),
        (prog, gk) => {
          const before = (i: number, out: number): number => {
            const [gen, kill] = gk[i % gk.length] as [number, number];
            return gen | (out & ~kill);
          };
          expect([...backwardMasks(prog, flowGraph(prog), before)]).toEqual([...roundRobin(prog, before)]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
