/**
 * Scalar bounds: the var_off tnum plus signed/unsigned 64- and 32-bit ranges, kept consistent with one
 * another the way the Linux verifier does (reg_bounds_sync and its helpers). All fields are bigints:
 * s* fields hold signed values, u* fields unsigned ones, each within its width.
 */
import {
  TNUM_UNKNOWN,
  type Tnum,
  tnumClearSubreg,
  tnumConst,
  tnumConstSubreg,
  tnumIntersect,
  tnumIsConst,
  tnumOr,
  tnumRange,
  tnumStep,
  tnumSubreg,
  tnumSubregIsConst,
} from './tnum.ts';

export const S64_MIN = -(1n << 63n);
export const S64_MAX = (1n << 63n) - 1n;
export const U64_MAX = (1n << 64n) - 1n;
export const S32_MIN = -(1n << 31n);
export const S32_MAX = (1n << 31n) - 1n;
export const U32_MAX = 0xffffffffn;

export const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
export const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
export const s32 = (x: bigint): bigint => BigInt.asIntN(32, x);
export const u32 = (x: bigint): bigint => BigInt.asUintN(32, x);

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** The numeric part of a register (scalars, and the variable offset of pointers). */
export interface Bounds {
  varOff: Tnum;
  smin: bigint;
  smax: bigint;
  umin: bigint;
  umax: bigint;
  s32min: bigint;
  s32max: bigint;
  u32min: bigint;
  u32max: bigint;
}

export const unboundedBounds = (): Bounds => ({
  varOff: TNUM_UNKNOWN,
  smin: S64_MIN,
  smax: S64_MAX,
  umin: 0n,
  umax: U64_MAX,
  s32min: S32_MIN,
  s32max: S32_MAX,
  u32min: 0n,
  u32max: U32_MAX,
});

export const knownBounds = (imm: bigint): Bounds => {
  if (imm === 0n) return cloneBounds(ZERO_BOUNDS);
  const b = unboundedBounds();
  markKnown(b, imm);
  return b;
};

export const copyBounds = (to: Bounds, from: Bounds): void => {
  to.varOff = from.varOff;
  to.smin = from.smin;
  to.smax = from.smax;
  to.umin = from.umin;
  to.umax = from.umax;
  to.s32min = from.s32min;
  to.s32max = from.s32max;
  to.u32min = from.u32min;
  to.u32max = from.u32max;
};

/** A copy of a register's bounds (field by field: one hidden class, and faster than a spread). */
export const cloneBounds = (b: Bounds): Bounds => ({
  varOff: b.varOff,
  smin: b.smin,
  smax: b.smax,
  umin: b.umin,
  umax: b.umax,
  s32min: b.s32min,
  s32max: b.s32max,
  u32min: b.u32min,
  u32max: b.u32max,
});

/** ___mark_reg_known: every view of the value is the constant. */
export const markKnown = (b: Bounds, imm: bigint): void => {
  const v = u64(imm);
  b.varOff = tnumConst(v);
  b.smin = s64(v);
  b.smax = s64(v);
  b.umin = v;
  b.umax = v;
  b.s32min = s32(v);
  b.s32max = s32(v);
  b.u32min = u32(v);
  b.u32max = u32(v);
};

/** The constant 0, the commonest constant (every pointer's offset): copied, not recomputed. */
const ZERO_BOUNDS: Bounds = (() => {
  const b = unboundedBounds();
  markKnown(b, 0n);
  return b;
})();

export const markKnown32 = (b: Bounds, imm: bigint): void => {
  b.varOff = tnumConstSubreg(b.varOff, imm);
  b.s32min = s32(imm);
  b.s32max = s32(imm);
  b.u32min = u32(imm);
  b.u32max = u32(imm);
};

export const markUnbounded = (b: Bounds): void => {
  mark64Unbounded(b);
  mark32Unbounded(b);
};

export const mark64Unbounded = (b: Bounds): void => {
  b.smin = S64_MIN;
  b.smax = S64_MAX;
  b.umin = 0n;
  b.umax = U64_MAX;
};

export const mark32Unbounded = (b: Bounds): void => {
  b.s32min = S32_MIN;
  b.s32max = S32_MAX;
  b.u32min = 0n;
  b.u32max = U32_MAX;
};

/** A fully unknown scalar. */
export const markUnknown = (b: Bounds): void => {
  b.varOff = TNUM_UNKNOWN;
  markUnbounded(b);
};

const update32 = (b: Bounds): void => {
  const t = tnumSubreg(b.varOff);
  b.s32min = max(b.s32min, s32(t.value | (t.mask & 0x80000000n)));
  b.s32max = min(b.s32max, s32(t.value | (t.mask & 0x7fffffffn)));
  b.u32min = max(b.u32min, u32(t.value));
  b.u32max = min(b.u32max, u32(t.value | t.mask));
};

const update64 = (b: Bounds): void => {
  const t = b.varOff;
  b.smin = max(b.smin, s64(t.value | (t.mask & (1n << 63n))));
  b.smax = min(b.smax, s64(t.value | (t.mask & S64_MAX)));
  b.umin = max(b.umin, t.value);
  b.umax = min(b.umax, t.value | t.mask);
  // Where the u64 range and the tnum share one value, the register is that value (Linux 6.18.y's
  // "Improve bounds when tnum has a single possible value"): one member at umin, none in range but
  // tmax, or one between umin and umax. On a dead branch this can pick a value outside the range, as
  // the kernel does, and the register stays usable as that constant.
  const next = tnumStep(t, b.umin);
  const tmax = t.value | t.mask;
  const uminIn = (b.umin & ~t.mask & U64_MAX) === t.value;
  if (uminIn && next > b.umax) markKnown(b, b.umin);
  else if (!uminIn && next === tmax) markKnown(b, tmax);
  else if (!uminIn && next <= b.umax && tnumStep(t, next) > b.umax) markKnown(b, next);
};

/** __update_reg_bounds: learn ranges from var_off. */
export const updateBounds = (b: Bounds): void => {
  update32(b);
  update64(b);
};
export const update32Bounds = update32;

/** __reg32_deduce_bounds */
const deduce32 = (b: Bounds): void => {
  if (b.umin >> 32n === b.umax >> 32n) {
    b.u32min = max(b.u32min, u32(b.umin));
    b.u32max = min(b.u32max, u32(b.umax));
    if (s32(b.umin) <= s32(b.umax)) {
      b.s32min = max(b.s32min, s32(b.umin));
      b.s32max = min(b.s32max, s32(b.umax));
    }
  }
  if (b.smin >> 32n === b.smax >> 32n) {
    if (u32(b.smin) <= u32(b.smax)) {
      b.u32min = max(b.u32min, u32(b.smin));
      b.u32max = min(b.u32max, u32(b.smax));
    }
    if (s32(b.smin) <= s32(b.smax)) {
      b.s32min = max(b.s32min, s32(b.smin));
      b.s32max = min(b.s32max, s32(b.smax));
    }
  }
  // Upper halves two consecutive values while the low halves cross from negative to positive.
  if (u32(u32(b.umin >> 32n) + 1n) === u32(b.umax >> 32n) && s32(b.umin) < 0n && s32(b.umax) >= 0n) {
    b.s32min = max(b.s32min, s32(b.umin));
    b.s32max = min(b.s32max, s32(b.umax));
  }
  if (u32(u32(b.smin >> 32n) + 1n) === u32(b.smax >> 32n) && s32(b.smin) < 0n && s32(b.smax) >= 0n) {
    b.s32min = max(b.s32min, s32(b.smin));
    b.s32max = min(b.s32max, s32(b.smax));
  }
  if (s32(b.u32min) <= s32(b.u32max)) {
    b.s32min = max(b.s32min, s32(b.u32min));
    b.s32max = min(b.s32max, s32(b.u32max));
  }
  if (u32(b.s32min) <= u32(b.s32max)) {
    b.u32min = max(b.u32min, u32(b.s32min));
    b.u32max = min(b.u32max, u32(b.s32max));
  }
};

/** __reg64_deduce_bounds */
const deduce64 = (b: Bounds): void => {
  if (s64(b.umin) <= s64(b.umax)) {
    b.smin = max(b.smin, s64(b.umin));
    b.smax = min(b.smax, s64(b.umax));
  }
  if (u64(b.smin) <= u64(b.smax)) {
    b.umin = max(b.umin, u64(b.smin));
    b.umax = min(b.umax, u64(b.smax));
  }
};

const HI = ~0xffffffffn;

/** __reg_deduce_mixed_bounds: tighten 64-bit bounds with 32-bit knowledge. */
const deduceMixed = (b: Bounds): void => {
  let nUmin = u64((b.umin & HI) | b.u32min);
  let nUmax = u64((b.umax & HI) | b.u32max);
  b.umin = max(b.umin, nUmin);
  b.umax = min(b.umax, nUmax);
  let nSmin = s64((b.smin & HI) | b.u32min);
  let nSmax = s64((b.smax & HI) | b.u32max);
  b.smin = max(b.smin, nSmin);
  b.smax = min(b.smax, nSmax);
  if (u32(b.s32min) <= u32(b.s32max)) {
    nUmin = u64((b.umin & HI) | u32(b.s32min));
    nUmax = u64((b.umax & HI) | u32(b.s32max));
    b.umin = max(b.umin, nUmin);
    b.umax = min(b.umax, nUmax);
    nSmin = s64((b.smin & HI) | u32(b.s32min));
    nSmax = s64((b.smax & HI) | u32(b.s32max));
    b.smin = max(b.smin, nSmin);
    b.smax = min(b.smax, nSmax);
  }
  // After a sign-extending load: a non-negative s32 range inside [S32_MIN, S32_MAX] fixes the upper bits.
  if (b.s32min >= 0n && b.smin >= S32_MIN && b.smax <= S32_MAX) {
    b.smin = b.s32min;
    b.smax = b.s32max;
    b.umin = b.s32min;
    b.umax = b.s32max;
    b.varOff = tnumIntersect(b.varOff, tnumRange(b.smin, b.smax));
  }
};

/** __reg_deduce_bounds */
export const deduceBounds = (b: Bounds): void => {
  deduce32(b);
  deduce64(b);
  deduceMixed(b);
};

/** __reg_bound_offset: learn var_off bits from the unsigned ranges. */
export const boundOffset = (b: Bounds): void => {
  const v64 = tnumIntersect(b.varOff, tnumRange(b.umin, b.umax));
  const v32 = tnumIntersect(tnumSubreg(v64), tnumRange(b.u32min, b.u32max));
  b.varOff = tnumOr(tnumClearSubreg(v64), v32);
};

/** reg_bounds_sync, computed (syncBounds is this behind a memo). */
export const computeSyncBounds = (b: Bounds): void => {
  updateBounds(b);
  deduceBounds(b);
  deduceBounds(b);
  boundOffset(b);
  updateBounds(b);
};

export const sameBounds = (a: Bounds, b: Bounds): boolean =>
  a.varOff.value === b.varOff.value &&
  a.varOff.mask === b.varOff.mask &&
  a.smin === b.smin &&
  a.smax === b.smax &&
  a.umin === b.umin &&
  a.umax === b.umax &&
  a.s32min === b.s32min &&
  a.s32max === b.s32max &&
  a.u32min === b.u32min &&
  a.u32max === b.u32max;

/**
 * A memo of a pure function of one or two Bounds (plus an integer tag naming the operation): a path
 * walk meets the same few thousand inputs over and over (over 85% repeats on the UKI parser), while
 * one reg_bounds_sync or ALU transfer costs hundreds of bigint operations. A direct-mapped table keeps
 * the latest input per slot; an entry answers only when the tag and every input field are equal, so
 * a hash collision costs a recomputation, never a wrong result.
 */
const MEMO_SIZE = 1 << 12;
const MEMO_FILLER = unboundedBounds();

export class BoundsMemo {
  // Filled up front: packed arrays (writing far past the end would make a sparse, slow one).
  // Tags are integers up to 2^53 (an ALU immediate is part of its tag).
  private readonly tags = new Float64Array(MEMO_SIZE).fill(-1);
  private readonly firsts = new Array<Bounds>(MEMO_SIZE).fill(MEMO_FILLER);
  private readonly seconds = new Array<Bounds | undefined>(MEMO_SIZE).fill(undefined);
  private readonly outputs = new Array<Bounds>(MEMO_SIZE).fill(MEMO_FILLER);

  /**
   * `compute(d, b, tag)` on `d` in place, or the remembered result for this exact input copied into
   * `d`. `b` (a second, read-only input; it may be `d` itself) reaches compute as a copy taken first.
   */
  apply(
    tag: number,
    d: Bounds,
    b: Bounds | undefined,
    compute: (d: Bounds, b: Bounds | undefined, tag: number) => void,
  ): void {
    const slot = this.slot(tag, d, b);
    const hit = this.get(slot, tag, d, b);
    if (hit !== undefined) {
      copyBounds(d, hit);
      return;
    }
    const before = cloneBounds(d);
    const second = b === undefined ? undefined : cloneBounds(b);
    compute(d, second, tag);
    this.put(slot, tag, before, second, d);
  }

  /** The table slot of an input (pass it to get and put). */
  slot(tag: number, a: Bounds, b: Bounds | undefined): number {
    let h = mixBounds(Math.imul((tag + 1) ^ (tag / 4294967296), 0x9e3779b1), a);
    if (b !== undefined) h = mixBounds(h, b);
    return (h ^ (h >>> 16)) & (MEMO_SIZE - 1);
  }

  /** The stored result for exactly this input, if the slot holds it. */
  get(slot: number, tag: number, a: Bounds, b: Bounds | undefined): Bounds | undefined {
    if (this.tags[slot] !== tag) return undefined;
    if (!sameBounds(this.firsts[slot] as Bounds, a)) return undefined;
    const second = this.seconds[slot];
    if (b === undefined ? second !== undefined : second === undefined || !sameBounds(second, b)) return undefined;
    return this.outputs[slot];
  }

  /** Stores copies of the input (as it was before the call) and of its result. */
  put(slot: number, tag: number, a: Bounds, b: Bounds | undefined, out: Bounds): void {
    this.tags[slot] = tag;
    this.firsts[slot] = a;
    this.seconds[slot] = b;
    this.outputs[slot] = cloneBounds(out);
  }
}

/** Mixes a bigint into a 32-bit hash through its (rounded) double value: no bigint allocation. */
const mix = (h: number, x: bigint): number => {
  const d = Number(x);
  return Math.imul(h ^ (d | 0) ^ ((d / 4294967296) | 0), 0x9e3779b1);
};

/** The signed 32-bit bounds are left out: they rarely tell inputs apart that the others do not. */
const mixBounds = (h: number, b: Bounds): number => {
  h = mix(h, b.varOff.value);
  h = mix(h, b.varOff.mask);
  h = mix(h, b.smin);
  h = mix(h, b.smax);
  h = mix(h, b.umin);
  h = mix(h, b.umax);
  h = mix(h, b.u32min);
  return mix(h, b.u32max);
};

const syncMemo = new BoundsMemo();

/** reg_bounds_sync */
export const syncBounds = (b: Bounds): void => syncMemo.apply(0, b, undefined, computeSyncBounds);

/** reg_bounds_sanity_check's conditions; the reason, or undefined when consistent. */
export const boundsViolation = (b: Bounds): string | undefined => {
  if (b.umin > b.umax || b.smin > b.smax || b.u32min > b.u32max || b.s32min > b.s32max) {
    return 'range bounds violation';
  }
  if (tnumIsConst(b.varOff)) {
    const uv = b.varOff.value;
    if (b.umin !== uv || b.umax !== uv || b.smin !== s64(uv) || b.smax !== s64(uv)) {
      return 'const tnum out of sync with range bounds';
    }
  }
  if (tnumSubregIsConst(b.varOff)) {
    const uv = u32(b.varOff.value);
    if (b.u32min !== uv || b.u32max !== uv || b.s32min !== s32(uv) || b.s32max !== s32(uv)) {
      return 'const subreg tnum out of sync with range bounds';
    }
  }
  return undefined;
};

/** __reg_assign_32_into_64 */
export const assign32Into64 = (b: Bounds): void => {
  b.umin = b.u32min;
  b.umax = b.u32max;
  if (b.s32min >= 0n && b.s32max >= 0n) {
    b.smin = b.s32min;
    b.smax = b.s32max;
  } else {
    b.smin = 0n;
    b.smax = U32_MAX;
  }
};

/** zext_32_to_64: a 32-bit result zero-extends into the full register. */
export const zext32To64 = (b: Bounds): void => {
  b.varOff = tnumSubreg(b.varOff);
  assign32Into64(b);
};

/** The register holds exactly one value (in the given width). */
export const isConst = (b: Bounds, w32: boolean): boolean =>
  w32 ? tnumSubregIsConst(b.varOff) : tnumIsConst(b.varOff);
export const constValue = (b: Bounds, w32: boolean): bigint => (w32 ? u32(b.varOff.value) : b.varOff.value);
