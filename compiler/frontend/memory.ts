/** View accesses with the bounds checks the verifier needs (left out where the range proves them). */
import type ts from 'typescript';
import type { Loc } from '../ir/ir.ts';
import { span, within } from '../ir/range.ts';
import type { Cx } from './context.ts';
import { addConst } from './expr.ts';
import type { IntValue, Value } from './values.ts';

type View = Extract<Value, { kind: 'ptr' }>;

/** Where an access of `width` bytes at `off` in a view of `size` bytes goes: [reg + off]. */
export interface Place {
  readonly reg: number;
  readonly off: number;
}

/**
 * The address of [off, off + width) inside the view at `base` of `size` bytes. Emits a check that
 * ends the program with its fault value when the range does not prove the access in bounds.
 */
export const placeAccess = (
  cx: Cx,
  base: number,
  size: number,
  off: IntValue,
  width: number,
  node: ts.Node,
  loc: Loc,
): Place | undefined => {
  const limit = size - width;
  if (off.reg === undefined && off.value !== undefined) {
    if (off.value >= 0n && off.value <= BigInt(limit)) {
      if (off.value <= 32767n) return { reg: base, off: Number(off.value) };
      return { reg: addConst(cx, base, Number(off.value), loc), off: 0 };
    }
    // always out of bounds: the access always faults, as it does natively
    cx.jump(cx.faultBlock(loc), loc);
    return undefined;
  }
  if (off.big && !cx.checkRegister(off, node)) return undefined;
  if (limit < 0) {
    cx.jump(cx.faultBlock(loc), loc);
    return undefined;
  }
  // `x + k` with x proven in [0, limit - k]: [base + x] with k in the offset field
  const sum = off.sum;
  if (sum !== undefined && sum.x.reg !== undefined && within(sum.x.range, span(0n, BigInt(limit - sum.k)))) {
    const p = cx.reg();
    cx.emit({ op: 'alu', alu: 'add', w: 64, dst: p, a: base, b: { reg: sum.x.reg }, loc });
    return { reg: p, off: sum.k };
  }
  let reg = cx.toReg(off, loc);
  if (!within(off.range, span(0n, BigInt(limit)))) {
    // Check and use one short-lived copy: were the value spilled, a check of one reload would not
    // bound a second reload for verifiers that do not tie spill slots to registers (before 6.8).
    const copy = cx.reg();
    cx.emit({ op: 'mov', dst: copy, src: reg, loc });
    reg = copy;
    const ok = cx.newBlock();
    cx.terminate({ op: 'br', cond: 'jgt', a: reg, b: { imm: limit }, t: cx.faultBlock(loc).id, f: ok.id, loc });
    cx.enter(ok);
  }
  const p = cx.reg();
  cx.emit({ op: 'alu', alu: 'add', w: 64, dst: p, a: base, b: { reg }, loc });
  return { reg: p, off: 0 };
};

/** A size argument checked into [min, max] (a fault outside), for helpers taking (buf, size). */
export const checkedSize = (cx: Cx, v: IntValue, max: number, node: ts.Node, loc: Loc): IntValue | undefined => {
  if (v.reg === undefined && v.value !== undefined) {
    if (v.value >= 0n && v.value <= BigInt(max)) return v;
    cx.jump(cx.faultBlock(loc), loc);
    return undefined;
  }
  if (v.big && !cx.checkRegister(v, node)) return undefined;
  if (within(v.range, span(0n, BigInt(max)))) return v;
  const reg = cx.toReg(v, loc);
  const ok = cx.newBlock();
  cx.terminate({ op: 'br', cond: 'jgt', a: reg, b: { imm: max }, t: cx.faultBlock(loc).id, f: ok.id, loc });
  cx.enter(ok);
  return { kind: 'int', reg, range: span(v.range.lo < 0n ? 0n : v.range.lo, BigInt(max)), big: v.big };
};

/**
 * The check of a variable-length view's own length: [off, off + width) inside `len` (a fault
 * outside, as natively). Left out where the ranges prove it. The verifier does not need it (it checks
 * accesses against the view's bound `size`); the DSL's semantics do.
 */
const checkLength = (cx: Cx, len: IntValue, off: IntValue, width: number, loc: Loc): boolean => {
  const w = BigInt(width);
  if (off.range.hi + w <= len.range.lo) return true;
  if (off.range.lo + w > len.range.hi) {
    cx.jump(cx.faultBlock(loc), loc);
    return false;
  }
  const lenReg = cx.toReg(len, loc);
  const ok = cx.newBlock();
  if (off.reg === undefined && off.value !== undefined) {
    cx.terminate({
      op: 'br',
      cond: 'jlt',
      a: lenReg,
      b: { imm: Number(off.value + w) },
      t: cx.faultBlock(loc).id,
      f: ok.id,
      loc,
    });
  } else {
    const end = cx.reg();
    cx.emit({ op: 'alu', alu: 'add', w: 64, dst: end, a: cx.toReg(off, loc), b: { imm: width }, loc });
    cx.terminate({ op: 'br', cond: 'jgt', a: end, b: { reg: lenReg }, t: cx.faultBlock(loc).id, f: ok.id, loc });
  }
  cx.enter(ok);
  return true;
};

/** placeAccess for a view: its run-time length first (variable-length views), then its bound. */
export const viewAccess = (
  cx: Cx,
  view: View,
  off: IntValue,
  width: number,
  node: ts.Node,
  loc: Loc,
): Place | undefined => {
  if (view.len !== undefined) {
    // (a negative offset passes this check as a large end, or fails it; placeAccess then faults)
    if (off.big && !cx.checkRegister(off, node)) return undefined;
    if (!checkLength(cx, view.len, off, width, loc)) return undefined;
  }
  return placeAccess(cx, view.reg, view.size, off, width, node, loc);
};

/** A helper's size argument for a view: within its run-time length and its bound. */
export const checkedViewSize = (cx: Cx, view: View, v: IntValue, node: ts.Node, loc: Loc): IntValue | undefined => {
  if (view.len !== undefined && !checkLength(cx, view.len, v, 0, loc)) return undefined;
  return checkedSize(cx, v, view.size, node, loc);
};
