/**
 * IR clean-up after lowering (constants are already folded there): jump threading through empty
 * blocks, removal of unreachable blocks, and dead-code elimination of instructions whose result is
 * never read (helper calls stay: they have effects).
 */
import { type Block, defOf, type IrFunction, type IrInsn, successors, termUses, usesOf, type VReg } from './ir.ts';

/** Follows chains of empty blocks that only jump. */
const threadJumps = (f: IrFunction): void => {
  const target = (id: number, seen = new Set<number>()): number => {
    const b = f.blocks[id] as Block;
    if (b.insns.length === 0 && b.term?.op === 'jmp' && !seen.has(id)) {
      seen.add(id);
      return target(b.term.target, seen);
    }
    return id;
  };
  for (const b of f.blocks) {
    const t = b.term;
    if (t?.op === 'jmp') b.term = { ...t, target: target(t.target) };
    else if (t?.op === 'br') {
      const tt = target(t.t);
      const ff = target(t.f);
      b.term = tt === ff ? { op: 'jmp', target: tt, loc: t.loc } : { ...t, t: tt, f: ff };
    }
  }
};

/**
 * Block ids reachable from the entry, in creation order: the frontend creates blocks in source order
 * (loop header, body, update, exit; then, else, join), which keeps live ranges short and the listing
 * in the order of the source.
 */
export const reachableOrder = (f: IrFunction): number[] => {
  const seen = new Set<number>();
  const post: number[] = [];
  const visit = (id: number): void => {
    if (seen.has(id)) return;
    seen.add(id);
    const b = f.blocks[id] as Block;
    for (const s of b.term === undefined ? [] : successors(b.term)) visit(s);
    post.push(id);
  };
  visit(0);
  return post.sort((a, b) => a - b);
};

const deadCode = (f: IrFunction, order: readonly number[]): boolean => {
  const used = new Set<VReg>();
  for (const id of order) {
    const b = f.blocks[id] as Block;
    for (const i of b.insns) for (const u of usesOf(i)) used.add(u);
    if (b.term) for (const u of termUses(b.term)) used.add(u);
  }
  let changed = false;
  for (const id of order) {
    const b = f.blocks[id] as Block;
    const keep = b.insns.filter((i) => {
      const d = defOf(i);
      const dead = i.op !== 'call' && i.op !== 'store' && i.op !== 'ctx' && d !== undefined && !used.has(d);
      if (dead) changed = true;
      return !dead;
    });
    b.insns.splice(0, b.insns.length, ...keep);
  }
  return changed;
};

/** Counts reads of every register. */
const useCounts = (f: IrFunction, order: readonly number[]): Map<VReg, number> => {
  const n = new Map<VReg, number>();
  const add = (v: VReg): void => void n.set(v, (n.get(v) ?? 0) + 1);
  for (const id of order) {
    const b = f.blocks[id] as Block;
    for (const i of b.insns) usesOf(i).forEach(add);
    if (b.term) termUses(b.term).forEach(add);
  }
  return n;
};

/** Ring operations whose low 32 bits depend only on the operands' low 32 bits. */
const RING32 = new Set(['add', 'sub', 'mul', 'and', 'or', 'xor']);

/**
 * Peepholes on adjacent instructions with a single-use temporary in between:
 * `t = op a, b; x = t` → `x = op a, b` (the copy disappears), and
 * `t = op64 a, b; u = or32 t, 0` → `u = op32 a, b` (a wrap to u32 right after a ring operation).
 */
const peephole = (f: IrFunction, order: readonly number[]): void => {
  const uses = useCounts(f, order);
  for (const id of order) {
    const b = f.blocks[id] as Block;
    for (let k = 0; k + 1 < b.insns.length; k++) {
      const i = b.insns[k] as IrInsn;
      const j = b.insns[k + 1] as IrInsn;
      const t = defOf(i);
      if (t === undefined || i.op === 'call' || uses.get(t) !== 1) continue;
      if (j.op === 'mov' && j.src === t) {
        b.insns.splice(k, 2, { ...i, dst: j.dst } as IrInsn);
        k--;
      } else if (
        i.op === 'alu' &&
        i.w === 64 &&
        RING32.has(i.alu) &&
        j.op === 'alu' &&
        j.alu === 'or' &&
        j.w === 32 &&
        j.a === t &&
        'imm' in j.b &&
        j.b.imm === 0
      ) {
        b.insns.splice(k, 2, { ...i, w: 32, dst: j.dst, loc: j.loc });
        k--;
      }
    }
  }
};

/** Optimises in place; returns the block layout order. */
export const optimize = (f: IrFunction): number[] => {
  peephole(f, reachableOrder(f));
  threadJumps(f);
  let order = reachableOrder(f);
  while (deadCode(f, order)) {
    threadJumps(f);
    order = reachableOrder(f);
  }
  return order;
};
