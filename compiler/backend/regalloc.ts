/**
 * Register allocation: liveness by data flow over the blocks, live intervals over the linear layout,
 * then linear scan. Intervals that live across a helper call get R6–R9 (preserved by calls); others
 * prefer R1–R4 (clobbered by calls). R0 and R5 are kept as scratch for spill reloads and moves, so an
 * interval that finds no register lives in an 8-byte stack slot instead.
 */
import { type Block, defOf, type IrFunction, termUses, usesOf, type VReg } from '../ir/ir.ts';

export type Location = { readonly reg: number } | { readonly slot: number };

export interface Allocation {
  readonly where: Map<VReg, Location>;
  /** Spill slots used (each 8 bytes, below the frontend's stack areas). */
  readonly slots: number;
}

const CALLER_SAVED = [1, 2, 3, 4];
const CALLEE_SAVED = [6, 7, 8, 9];

interface Interval {
  readonly vreg: VReg;
  start: number;
  end: number;
  crossesCall: boolean;
}

export const allocate = (f: IrFunction, order: readonly number[]): Allocation => {
  const blocks = order.map((id) => f.blocks[id] as Block);
  // liveness
  const liveIn = new Map<number, Set<VReg>>();
  const liveOut = new Map<number, Set<VReg>>();
  const succ = (b: Block): number[] =>
    b.term?.op === 'jmp' ? [b.term.target] : b.term?.op === 'br' ? [b.term.t, b.term.f] : [];
  for (const b of blocks) {
    liveIn.set(b.id, new Set());
    liveOut.set(b.id, new Set());
  }
  let changed = true;
  while (changed) {
    changed = false;
    for (let k = blocks.length - 1; k >= 0; k--) {
      const b = blocks[k] as Block;
      const out = new Set<VReg>();
      for (const s of succ(b)) for (const v of liveIn.get(s) ?? []) out.add(v);
      const live = new Set(out);
      if (b.term) for (const u of termUses(b.term)) live.add(u);
      for (let i = b.insns.length - 1; i >= 0; i--) {
        const insn = b.insns[i];
        if (insn === undefined) continue;
        const d = defOf(insn);
        if (d !== undefined) live.delete(d);
        for (const u of usesOf(insn)) live.add(u);
      }
      const old = liveIn.get(b.id) as Set<VReg>;
      if (live.size !== old.size || [...live].some((v) => !old.has(v))) {
        liveIn.set(b.id, live);
        changed = true;
      }
      liveOut.set(b.id, out);
    }
  }
  // intervals: instruction k of the layout uses at 2k, defines at 2k + 1
  const iv = new Map<VReg, Interval>();
  const touch = (v: VReg, p: number): void => {
    const x = iv.get(v);
    if (x === undefined) iv.set(v, { vreg: v, start: p, end: p, crossesCall: false });
    else {
      if (p < x.start) x.start = p;
      if (p > x.end) x.end = p;
    }
  };
  const calls: number[] = [];
  // preferences: call arguments want their argument register, copies and ALU results their source's
  const hint = new Map<VReg, number>();
  const follows = new Map<VReg, VReg>();
  for (const b of blocks) {
    for (const insn of b.insns) {
      if (insn.op === 'call') {
        for (const [k, a] of insn.args.entries()) if ('reg' in a && !hint.has(a.reg)) hint.set(a.reg, k + 1);
      }
      if (insn.op === 'ctx') hint.set(insn.dst, 1);
      if (insn.op === 'arg') hint.set(insn.dst, insn.index + 1);
      if (insn.op === 'mov') follows.set(insn.dst, insn.src);
      if (insn.op === 'alu') follows.set(insn.dst, insn.a);
    }
  }
  let pos = 0;
  for (const b of blocks) {
    const first = pos;
    for (const v of liveIn.get(b.id) ?? []) touch(v, first);
    for (const insn of b.insns) {
      for (const u of usesOf(insn)) touch(u, pos);
      const d = defOf(insn);
      if (d !== undefined) touch(d, pos + 1);
      if (insn.op === 'call') calls.push(pos);
      pos += 2;
    }
    if (b.term) for (const u of termUses(b.term)) touch(u, pos);
    pos += 2;
    for (const v of liveOut.get(b.id) ?? []) touch(v, pos - 1);
  }
  for (const x of iv.values()) x.crossesCall = calls.some((c) => x.start <= c && x.end >= c + 1);
  // linear scan
  const where = new Map<VReg, Location>();
  const active: Interval[] = [];
  const busy = new Set<number>();
  let slots = 0;
  // A freed slot remembers where its last interval ended: a spilled victim occupies its slot over
  // its whole interval, which began before the current position, so it may only take a slot whose
  // previous holder was dead by then.
  const freeSlots: { slot: number; end: number }[] = [];
  const takeSlot = (from: number): number => {
    const i = freeSlots.findLastIndex((f) => f.end < from);
    if (i < 0) return slots++;
    const [f] = freeSlots.splice(i, 1);
    return (f as { slot: number }).slot;
  };
  const sorted = [...iv.values()].sort((a, b) => a.start - b.start || a.vreg - b.vreg);
  for (const cur of sorted) {
    for (let i = active.length - 1; i >= 0; i--) {
      const a = active[i] as Interval;
      if (a.end < cur.start) {
        const loc = where.get(a.vreg);
        if (loc !== undefined && 'reg' in loc) busy.delete(loc.reg);
        else if (loc !== undefined) freeSlots.push({ slot: loc.slot, end: a.end });
        active.splice(i, 1);
      }
    }
    const pool = cur.crossesCall ? CALLEE_SAVED : [...CALLER_SAVED, ...CALLEE_SAVED];
    const src = follows.get(cur.vreg);
    const srcLoc = src === undefined ? undefined : where.get(src);
    const wanted = [hint.get(cur.vreg), srcLoc !== undefined && 'reg' in srcLoc ? srcLoc.reg : undefined];
    const reg =
      wanted.find((r) => r !== undefined && pool.includes(r) && !busy.has(r)) ?? pool.find((r) => !busy.has(r));
    if (reg === undefined) {
      // Spill whichever of cur and the active intervals holding a usable register ends last (each
      // for its whole interval; the slot is reused once the interval ends): short-lived values such
      // as a checked offset stay in registers.
      let victim: Interval | undefined;
      for (const a of active) {
        const l = where.get(a.vreg);
        if (l !== undefined && 'reg' in l && pool.includes(l.reg) && a.end > (victim ?? cur).end) victim = a;
      }
      if (victim === undefined) where.set(cur.vreg, { slot: takeSlot(cur.start) });
      else {
        where.set(cur.vreg, where.get(victim.vreg) as Location);
        where.set(victim.vreg, { slot: takeSlot(victim.start) });
      }
      active.push(cur);
      continue;
    }
    busy.add(reg);
    where.set(cur.vreg, { reg });
    active.push(cur);
  }
  return { where, slots };
};
