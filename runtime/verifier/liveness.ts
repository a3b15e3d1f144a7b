/**
 * Register liveness before each instruction (compute_live_registers, Linux 6.14+): a backward
 * data-flow fixpoint over the instruction graph. State pruning ignores registers that are dead at
 * the instruction, as the kernel does.
 */
import { helperById } from '../../bpf/abi/index.ts';
import { CallSrc, Class, classOf, JmpOp, Mask, Mode } from '../../bpf/isa/index.ts';
import { isLddw, type ProgSlot } from './program.ts';

const bit = (r: number): number => 1 << r;
const R0_R5 = 0x3f;
const R1_R5 = 0x3e;

interface UseDef {
  readonly use: number;
  readonly def: number;
}

const useDef = (s: ProgSlot): UseDef => {
  const { code, dst, src, imm } = s.raw;
  const cls = classOf(code);
  const x = (code & 0x08) !== 0;
  switch (cls) {
    case Class.ALU:
    case Class.ALU64: {
      const op = code & Mask.OP;
      if (op === 0xb0) return { use: x ? bit(src) : 0, def: bit(dst) };
      if (op === 0x80 || op === 0xd0) return { use: bit(dst), def: bit(dst) };
      return { use: bit(dst) | (x ? bit(src) : 0), def: bit(dst) };
    }
    case Class.LDX:
      return { use: bit(src), def: bit(dst) };
    case Class.ST:
      return { use: bit(dst), def: 0 };
    case Class.STX: {
      if ((code & Mask.MODE) !== Mode.ATOMIC) return { use: bit(dst) | bit(src), def: 0 };
      if (imm === 0xf1) return { use: bit(dst) | bit(src) | bit(0), def: bit(0) };
      return { use: bit(dst) | bit(src), def: imm & 1 ? bit(src) : 0 };
    }
    case Class.LD:
      if (isLddw(s)) return { use: 0, def: bit(dst) };
      return { use: bit(6) | ((code & Mask.MODE) === Mode.IND ? bit(src) : 0), def: R0_R5 };
    default: {
      const op = code & Mask.OP;
      if (op === JmpOp.EXIT) return { use: bit(0), def: 0 };
      if (op === JmpOp.CALL) {
        if (src === CallSrc.HELPER) {
          const n = helperById(imm)?.args.length ?? 5;
          return { use: ((1 << (n + 1)) - 1) & R1_R5, def: R0_R5 };
        }
        return { use: R1_R5, def: R0_R5 };
      }
      if (op === JmpOp.JA) return { use: 0, def: 0 };
      return { use: bit(dst) | (x ? bit(src) : 0), def: 0 };
    }
  }
};

/** Successor slots of instruction i in the intra-procedural graph (a call falls through). */
export const successors = (prog: readonly ProgSlot[], i: number): number[] => {
  const out = new Int32Array(2);
  return Array.from(out.subarray(0, successorsInto(prog, i, out)));
};

/** successors() written into `out` (room for two), without allocating; the count. */
const successorsInto = (prog: readonly ProgSlot[], i: number, out: Int32Array): number => {
  const s = prog[i] as ProgSlot;
  const code = s.raw.code;
  const cls = classOf(code);
  if (cls !== Class.JMP && cls !== Class.JMP32) {
    out[0] = i + (isLddw(s) ? 2 : 1);
    return 1;
  }
  const op = code & Mask.OP;
  if (op === JmpOp.EXIT) return 0;
  if (op === JmpOp.CALL) {
    out[0] = i + 1;
    return 1;
  }
  if (op === JmpOp.JA) {
    out[0] = i + (cls === Class.JMP ? s.raw.off : s.raw.imm) + 1;
    return 1;
  }
  out[0] = i + 1;
  out[1] = i + s.raw.off + 1;
  return 2;
};

/**
 * The intra-procedural graph as flat arrays (no per-instruction lists): the successors of slot i are
 * succ[succFirst[i]] .. succ[succFirst[i + 1] - 1], its predecessors likewise. Continuation slots
 * (lddw's second half) have no edges; edges leaving the program are dropped.
 */
export interface FlowGraph {
  readonly succFirst: Int32Array;
  readonly succ: Int32Array;
  readonly predFirst: Int32Array;
  readonly pred: Int32Array;
}

export const flowGraph = (prog: readonly ProgSlot[]): FlowGraph => {
  const n = prog.length;
  const buf = new Int32Array(2);
  // The edges of slot i kept in the graph, into buf; their count.
  const edges = (i: number): number => {
    if ((prog[i] as ProgSlot).continuation) return 0;
    let kept = 0;
    const found = successorsInto(prog, i, buf);
    for (let k = 0; k < found; k++) {
      const t = buf[k] as number;
      if (t >= 0 && t < n) buf[kept++] = t;
    }
    return kept;
  };
  const succFirst = new Int32Array(n + 1);
  const predFirst = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const m = edges(i);
    succFirst[i + 1] = (succFirst[i] as number) + m;
    for (let k = 0; k < m; k++) predFirst[(buf[k] as number) + 1] = (predFirst[(buf[k] as number) + 1] as number) + 1;
  }
  for (let i = 0; i < n; i++) predFirst[i + 1] = (predFirst[i + 1] as number) + (predFirst[i] as number);
  const succ = new Int32Array(succFirst[n] as number);
  const pred = new Int32Array(succ.length);
  const fill = predFirst.slice(0, n);
  for (let i = 0; i < n; i++) {
    const m = edges(i);
    for (let k = 0; k < m; k++) {
      const t = buf[k] as number;
      succ[(succFirst[i] as number) + k] = t;
      pred[fill[t] as number] = i;
      fill[t] = (fill[t] as number) + 1;
    }
  }
  return { succFirst, succ, predFirst, pred };
};

/**
 * The least fixpoint of a monotone backward data-flow problem over register masks: for each slot, the
 * mask before it, where `before(i, after)` maps the union over its successors to the mask before
 * instruction i. A worklist revisits only the predecessors of a slot whose mask grew (a monotone
 * problem has one least fixpoint, whatever the visiting order).
 */
export const backwardMasks = (
  prog: readonly ProgSlot[],
  g: FlowGraph,
  before: (i: number, after: number) => number,
): Uint16Array => {
  const n = prog.length;
  const at = new Uint16Array(n);
  const queued = new Uint8Array(n);
  const work = new Int32Array(n);
  let top = 0;
  // Popped highest index first: one backward sweep settles code without loops.
  for (let i = 0; i < n; i++) {
    if (prog[i]?.continuation) continue;
    work[top++] = i;
    queued[i] = 1;
  }
  while (top > 0) {
    const i = work[--top] as number;
    queued[i] = 0;
    let out = 0;
    for (let k = g.succFirst[i] as number; k < (g.succFirst[i + 1] as number); k++)
      out |= at[g.succ[k] as number] as number;
    const inn = before(i, out) & 0x7ff;
    if (inn === at[i]) continue;
    at[i] = inn;
    for (let k = g.predFirst[i] as number; k < (g.predFirst[i + 1] as number); k++) {
      const p = g.pred[k] as number;
      if (queued[p] || prog[p]?.continuation) continue;
      queued[p] = 1;
      work[top++] = p;
    }
  }
  return at;
};

/** Bit mask of registers live before each instruction (only meaningful at instruction starts). */
export const liveRegisters = (prog: readonly ProgSlot[], g: FlowGraph = flowGraph(prog)): Uint16Array => {
  const ud = prog.map((s) => (s.continuation ? { use: 0, def: 0 } : useDef(s)));
  return backwardMasks(prog, g, (i, out) => {
    const u = ud[i] as UseDef;
    return u.use | (out & ~u.def);
  });
};
