/**
 * Conditional jumps on scalars: deciding a branch from bounds (is_scalar_branch_taken) and refining
 * both operands on each successor (regs_refine_cond_op, then a bounds sync), 64- and 32-bit.
 */
import { type Bounds, s32, syncBounds, u32 } from './bounds.ts';
import { tnumAnd, tnumConst, tnumIntersect, tnumIsConst, tnumOr, tnumSubreg, tnumWithSubreg } from './tnum.ts';

export type Cond = 'jeq' | 'jne' | 'jset' | 'jnset' | 'jgt' | 'jge' | 'jlt' | 'jle' | 'jsgt' | 'jsge' | 'jslt' | 'jsle';

const FLIP: Record<Cond, Cond> = {
  jeq: 'jeq',
  jne: 'jne',
  jset: 'jset',
  jnset: 'jnset',
  jge: 'jle',
  jgt: 'jlt',
  jle: 'jge',
  jlt: 'jgt',
  jsge: 'jsle',
  jsgt: 'jslt',
  jsle: 'jsge',
  jslt: 'jsgt',
};
const REV: Record<Cond, Cond> = {
  jeq: 'jne',
  jne: 'jeq',
  jset: 'jnset',
  jnset: 'jset',
  jge: 'jlt',
  jgt: 'jle',
  jle: 'jgt',
  jlt: 'jge',
  jsge: 'jslt',
  jsgt: 'jsle',
  jsle: 'jsgt',
  jslt: 'jsge',
};
/** "b op a" for "a op b". */
export const flipCond = (c: Cond): Cond => FLIP[c];
/** The condition of the fall-through edge. */
export const revCond = (c: Cond): Cond => REV[c];

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

export const isRegConst = (b: Bounds, w32: boolean): boolean =>
  w32 ? (b.varOff.mask & 0xffffffffn) === 0n : tnumIsConst(b.varOff);
export const regConst = (b: Bounds, w32: boolean): bigint => (w32 ? u32(b.varOff.value) : b.varOff.value);

/** 1 taken, 0 not taken, -1 unknown. */
export const scalarBranchTaken = (r1: Bounds, r2: Bounds, op: Cond, w32: boolean): 1 | 0 | -1 => {
  const t1 = w32 ? tnumSubreg(r1.varOff) : r1.varOff;
  const t2 = w32 ? tnumSubreg(r2.varOff) : r2.varOff;
  const umin1 = w32 ? r1.u32min : r1.umin;
  const umax1 = w32 ? r1.u32max : r1.umax;
  const smin1 = w32 ? r1.s32min : r1.smin;
  const smax1 = w32 ? r1.s32max : r1.smax;
  const umin2 = w32 ? r2.u32min : r2.umin;
  const umax2 = w32 ? r2.u32max : r2.umax;
  const smin2 = w32 ? r2.s32min : r2.smin;
  const smax2 = w32 ? r2.s32max : r2.smax;
  switch (op) {
    case 'jeq':
    case 'jne': {
      const eq = op === 'jeq' ? 1 : 0;
      const ne = op === 'jeq' ? 0 : 1;
      if (tnumIsConst(t1) && tnumIsConst(t2)) return t1.value === t2.value ? eq : ne;
      if (umin1 > umax2 || umax1 < umin2) return ne;
      if (smin1 > smax2 || smax1 < smin2) return ne;
      if (!w32) {
        if (r1.u32min > r2.u32max || r1.u32max < r2.u32min) return ne;
        if (r1.s32min > r2.s32max || r1.s32max < r2.s32min) return ne;
      }
      return -1;
    }
    case 'jset': {
      let a = t1;
      let b = t2;
      let rb = r2;
      if (!isRegConst(rb, w32)) {
        [a, b] = [b, a];
        rb = r1;
      }
      if (!isRegConst(rb, w32)) return -1;
      if (~a.mask & a.value & b.value) return 1;
      if (!((a.mask | a.value) & b.value)) return 0;
      return -1;
    }
    case 'jgt':
      return umin1 > umax2 ? 1 : umax1 <= umin2 ? 0 : -1;
    case 'jsgt':
      return smin1 > smax2 ? 1 : smax1 <= smin2 ? 0 : -1;
    case 'jlt':
      return umax1 < umin2 ? 1 : umin1 >= umax2 ? 0 : -1;
    case 'jslt':
      return smax1 < smin2 ? 1 : smin1 >= smax2 ? 0 : -1;
    case 'jge':
      return umin1 >= umax2 ? 1 : umax1 < umin2 ? 0 : -1;
    case 'jsge':
      return smin1 >= smax2 ? 1 : smax1 < smin2 ? 0 : -1;
    case 'jle':
      return umax1 <= umin2 ? 1 : umin1 > umax2 ? 0 : -1;
    case 'jsle':
      return smax1 <= smin2 ? 1 : smin1 > smax2 ? 0 : -1;
    default:
      return -1;
  }
};

const isPow2 = (v: bigint): boolean => v !== 0n && (v & (v - 1n)) === 0n;

/** regs_refine_cond_op: learn from "r1 op r2" holding. Mutates both. */
export const refineCond = (r1: Bounds, r2: Bounds, op: Cond, w32: boolean): void => {
  if (op === 'jge' || op === 'jgt' || op === 'jsge' || op === 'jsgt') {
    op = flipCond(op);
    [r1, r2] = [r2, r1];
  }
  switch (op) {
    case 'jeq':
      if (w32) {
        r1.u32min = max(r1.u32min, r2.u32min);
        r1.u32max = min(r1.u32max, r2.u32max);
        r1.s32min = max(r1.s32min, r2.s32min);
        r1.s32max = min(r1.s32max, r2.s32max);
        r2.u32min = r1.u32min;
        r2.u32max = r1.u32max;
        r2.s32min = r1.s32min;
        r2.s32max = r1.s32max;
        const t = tnumIntersect(tnumSubreg(r1.varOff), tnumSubreg(r2.varOff));
        r1.varOff = tnumWithSubreg(r1.varOff, t);
        r2.varOff = tnumWithSubreg(r2.varOff, t);
      } else {
        r1.umin = max(r1.umin, r2.umin);
        r1.umax = min(r1.umax, r2.umax);
        r1.smin = max(r1.smin, r2.smin);
        r1.smax = min(r1.smax, r2.smax);
        r2.umin = r1.umin;
        r2.umax = r1.umax;
        r2.smin = r1.smin;
        r2.smax = r1.smax;
        r1.varOff = tnumIntersect(r1.varOff, r2.varOff);
        r2.varOff = r1.varOff;
      }
      return;
    case 'jne': {
      if (!isRegConst(r2, w32)) [r1, r2] = [r2, r1];
      if (!isRegConst(r2, w32)) return;
      const val = regConst(r2, w32);
      if (w32) {
        if (r1.u32min === u32(val)) r1.u32min++;
        if (r1.u32max === u32(val)) r1.u32max--;
        if (r1.s32min === s32(val)) r1.s32min++;
        if (r1.s32max === s32(val)) r1.s32max--;
      } else {
        if (r1.umin === val) r1.umin++;
        if (r1.umax === val) r1.umax--;
        if (r1.smin === BigInt.asIntN(64, val)) r1.smin++;
        if (r1.smax === BigInt.asIntN(64, val)) r1.smax--;
      }
      return;
    }
    case 'jset':
    case 'jnset': {
      if (!isRegConst(r2, w32)) [r1, r2] = [r2, r1];
      if (!isRegConst(r2, w32)) return;
      const val = regConst(r2, w32);
      if (op === 'jset') {
        if (!isPow2(val)) return;
        if (w32) r1.varOff = tnumWithSubreg(r1.varOff, tnumOr(tnumSubreg(r1.varOff), tnumConst(val)));
        else r1.varOff = tnumOr(r1.varOff, tnumConst(val));
      } else if (w32) {
        r1.varOff = tnumWithSubreg(r1.varOff, tnumAnd(tnumSubreg(r1.varOff), tnumConst(~val)));
      } else {
        r1.varOff = tnumAnd(r1.varOff, tnumConst(~val));
      }
      return;
    }
    case 'jle':
      if (w32) {
        r1.u32max = min(r1.u32max, r2.u32max);
        r2.u32min = max(r1.u32min, r2.u32min);
      } else {
        r1.umax = min(r1.umax, r2.umax);
        r2.umin = max(r1.umin, r2.umin);
      }
      return;
    case 'jlt':
      if (w32) {
        r1.u32max = min(r1.u32max, u32(r2.u32max - 1n));
        r2.u32min = max(u32(r1.u32min + 1n), r2.u32min);
      } else {
        r1.umax = min(r1.umax, BigInt.asUintN(64, r2.umax - 1n));
        r2.umin = max(BigInt.asUintN(64, r1.umin + 1n), r2.umin);
      }
      return;
    case 'jsle':
      if (w32) {
        r1.s32max = min(r1.s32max, r2.s32max);
        r2.s32min = max(r1.s32min, r2.s32min);
      } else {
        r1.smax = min(r1.smax, r2.smax);
        r2.smin = max(r1.smin, r2.smin);
      }
      return;
    case 'jslt':
      if (w32) {
        r1.s32max = min(r1.s32max, s32(r2.s32max - 1n));
        r2.s32min = max(s32(r1.s32min + 1n), r2.s32min);
      } else {
        r1.smax = min(r1.smax, BigInt.asIntN(64, r2.smax - 1n));
        r2.smin = max(BigInt.asIntN(64, r1.smin + 1n), r2.smin);
      }
      return;
    default:
      return;
  }
};

/** reg_set_min_max on scalars: refine the taken (t1, t2) and fall-through (f1, f2) copies. */
export const setMinMax = (t1: Bounds, t2: Bounds, f1: Bounds, f2: Bounds, op: Cond, w32: boolean): void => {
  refineCond(f1, f2, revCond(op), w32);
  syncBounds(f1);
  syncBounds(f2);
  refineCond(t1, t2, op, w32);
  syncBounds(t1);
  syncBounds(t2);
};
