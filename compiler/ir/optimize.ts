/**
 * IR clean-up after lowering (constants are already folded there): jump threading through empty
 * blocks, removal of unreachable blocks, and dead-code elimination of instructions whose result is
 * never read (helper calls stay: they have effects).
 */
import {
  type Block,
  defOf,
  type IrFunction,
  type IrInsn,
  type Operand,
  successors,
  termUses,
  usesOf,
  type VReg,
} from './ir.ts';

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
 * Block ids reachable from the entry, in the order the frontend filled them (Block.seq: source order
 * — loop header, body, update, exit; condition, then, else, join), which keeps live ranges short and
 * the listing in the order of the source; blocks only jumped to (fault exits) go last.
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
  const rank = (id: number): number => (f.blocks[id] as Block).seq;
  return post.sort((a, b) => rank(a) - rank(b) || a - b);
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
        k = Math.max(-1, k - 2);
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
        k = Math.max(-1, k - 2);
      }
    }
  }
};

const isImm = (o: Operand, v: number): boolean => 'imm' in o && o.imm === v;

/**
 * Demanded bits: a 32-bit ALU operation reads only the low 32 bits of its operands, a store of at
 * most 4 bytes only those of its source. Where such an operand is a sign extension (`lsh 32; arsh
 * 32`) or zero extension (`or32 x, 0`) of a value x, the operand becomes x itself and the extension
 * usually dies. And `or32 x, 0` of an x that a 32-bit operation or load produced (already zero-
 * extended) is a copy. Only registers with one definition are looked through, so x holds at the use
 * the value it had at the extension.
 */
const forwardLow32 = (f: IrFunction, order: readonly number[]): void => {
  const defs = new Map<VReg, IrInsn | null>();
  for (const id of order)
    for (const i of (f.blocks[id] as Block).insns) {
      const d = defOf(i);
      if (d !== undefined) defs.set(d, defs.has(d) ? null : i);
    }
  const single = (v: VReg): IrInsn | undefined => defs.get(v) ?? undefined;
  // A register a branch compares carries the bounds the verifier learns from that branch (the
  // frontend's range narrowing relies on them): its uses are not moved to the register it extends.
  const compared = new Set<VReg>();
  for (const id of order) {
    const t = (f.blocks[id] as Block).term;
    if (t?.op === 'br') for (const r of termUses(t)) compared.add(r);
  }
  const low = (v: VReg): VReg => {
    let cur = v;
    for (;;) {
      if (compared.has(cur)) return cur;
      const d = single(cur);
      if (d?.op !== 'alu') return cur;
      if (d.w === 32 && d.alu === 'or' && isImm(d.b, 0) && single(d.a) !== undefined) cur = d.a;
      else if (d.w === 64 && d.alu === 'arsh' && isImm(d.b, 32)) {
        const t = single(d.a);
        if (t?.op !== 'alu' || t.w !== 64 || t.alu !== 'lsh' || !isImm(t.b, 32) || single(t.a) === undefined)
          return cur;
        cur = t.a;
      } else return cur;
    }
  };
  const zeroExtended = (v: VReg): boolean => {
    const d = single(v);
    return (d?.op === 'alu' && d.w === 32) || (d?.op === 'load' && d.size <= 4);
  };
  for (const id of order) {
    const b = f.blocks[id] as Block;
    b.insns.forEach((i, k) => {
      // `and64 x, m` with 0 ≤ m < 2^31 reads only x's low 32 bits as well
      const low32Mask = i.op === 'alu' && i.alu === 'and' && 'imm' in i.b && i.b.imm >= 0;
      if (i.op === 'alu' && i.w === 64 && low32Mask) b.insns[k] = { ...i, a: low(i.a) };
      else if (i.op === 'alu' && i.w === 32) {
        const a = low(i.a);
        const bo = 'reg' in i.b ? { reg: low(i.b.reg) } : i.b;
        b.insns[k] =
          i.alu === 'or' && isImm(bo, 0) && zeroExtended(a)
            ? { op: 'mov', dst: i.dst, src: a, loc: i.loc }
            : { ...i, a, b: bo };
      } else if (i.op === 'store' && i.size <= 4 && 'reg' in i.src) b.insns[k] = { ...i, src: { reg: low(i.src.reg) } };
      // strength reduction: a multiply by 2^k is a shift (the same modulo 2^32 and 2^64)
      const cur = b.insns[k] as IrInsn;
      if (
        cur.op === 'alu' &&
        cur.alu === 'mul' &&
        'imm' in cur.b &&
        cur.b.imm > 1 &&
        (cur.b.imm & (cur.b.imm - 1)) === 0
      )
        b.insns[k] = { ...cur, alu: 'lsh', b: { imm: Math.log2(cur.b.imm) } };
    });
  }
};

/**
 * `t = op a, b; x = op2 t, c` where x is a variable (assigned more than once) → `x = op a, b;
 * x = op2 x, c`: x is overwritten right after, so nothing reads its old value in between, and the
 * variable's register is updated in place instead of through a temporary (whose interval would
 * overlap the variable's and need a second register and a copy).
 */
const updateInPlace = (f: IrFunction, order: readonly number[]): void => {
  const uses = useCounts(f, order);
  const defs = new Map<VReg, number>();
  for (const id of order)
    for (const i of (f.blocks[id] as Block).insns) {
      const d = defOf(i);
      if (d !== undefined) defs.set(d, (defs.get(d) ?? 0) + 1);
    }
  for (const id of order) {
    const b = f.blocks[id] as Block;
    for (let k = 0; k + 1 < b.insns.length; k++) {
      const i = b.insns[k] as IrInsn;
      const j = b.insns[k + 1] as IrInsn;
      if (i.op !== 'alu' || j.op !== 'alu' || j.a !== i.dst || uses.get(i.dst) !== 1) continue;
      if ((defs.get(j.dst) ?? 0) < 2 || ('reg' in j.b && j.b.reg === j.dst)) continue;
      b.insns.splice(k, 2, { ...i, dst: j.dst }, { ...j, a: j.dst });
    }
  }
};

/**
 * Local value numbering: an ALU operation repeated in a block on the same operands (none redefined
 * in between) becomes a copy of the first result, e.g. `base + i` of two accesses at `i` and `i + k`.
 */
const localCse = (f: IrFunction, order: readonly number[]): void => {
  for (const id of order) {
    const b = f.blocks[id] as Block;
    const avail: { key: string; a: VReg; b: VReg | undefined; dst: VReg }[] = [];
    b.insns.forEach((i, k) => {
      let cur = i;
      if (i.op === 'alu') {
        const key = `${i.alu}${i.w} ${i.a} ${'reg' in i.b ? `r${i.b.reg}` : i.b.imm}`;
        const hit = avail.find((e) => e.key === key);
        if (hit !== undefined) {
          cur = { op: 'mov', dst: i.dst, src: hit.dst, loc: i.loc };
          b.insns[k] = cur;
        }
      }
      const d = defOf(cur);
      if (d === undefined) return;
      for (let e = avail.length - 1; e >= 0; e--) {
        const x = avail[e] as (typeof avail)[number];
        if (x.a === d || x.b === d || x.dst === d) avail.splice(e, 1);
      }
      if (cur.op === 'alu' && cur.a !== d && !('reg' in cur.b && cur.b.reg === d))
        avail.push({
          key: `${cur.alu}${cur.w} ${cur.a} ${'reg' in cur.b ? `r${cur.b.reg}` : cur.b.imm}`,
          a: cur.a,
          b: 'reg' in cur.b ? cur.b.reg : undefined,
          dst: d,
        });
    });
  }
};

/**
 * `v = c; jmp B` where B only returns v → `ret c`: the arms of `return x ? -1 : 1` return their
 * constants directly instead of meeting in a register copied to R0.
 */
const returnConstants = (f: IrFunction, order: readonly number[]): void => {
  for (const id of order) {
    const p = f.blocks[id] as Block;
    if (p.term?.op !== 'jmp') continue;
    const target = f.blocks[p.term.target] as Block;
    const last = p.insns[p.insns.length - 1];
    const ret = target.term;
    if (target.insns.length > 0 || ret?.op !== 'ret' || !('reg' in ret.value) || last?.op !== 'const') continue;
    const v = BigInt.asIntN(64, last.value);
    if (last.dst !== ret.value.reg || v < -(2n ** 31n) || v >= 2n ** 31n) continue;
    p.insns.pop();
    p.term = { op: 'ret', value: { imm: Number(v) }, loc: ret.loc ?? p.term.loc };
  }
};

/** Optimises in place; returns the block layout order. */
export const optimize = (f: IrFunction): number[] => {
  localCse(f, reachableOrder(f));
  forwardLow32(f, reachableOrder(f));
  while (deadCode(f, reachableOrder(f)));
  peephole(f, reachableOrder(f));
  updateInPlace(f, reachableOrder(f));
  threadJumps(f);
  returnConstants(f, reachableOrder(f));
  let order = reachableOrder(f);
  while (deadCode(f, order)) {
    threadJumps(f);
    order = reachableOrder(f);
  }
  return order;
};
