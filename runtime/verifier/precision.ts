/**
 * Which scalar registers need to be precise, per instruction: a static over-approximation of the
 * kernel's precision tracking (mark_chain_precision). A scalar's exact value matters only where it
 * decides something: a conditional jump, pointer arithmetic, a helper or subprogram argument, a
 * range-checked return value, or a value stored to memory (which a later load may use). A backward
 * data-flow pass gives, before each instruction, the registers whose value can reach such a use on
 * some path; state pruning compares the other scalars by type only, as the kernel compares
 * imprecise scalars. Being static, it marks more than the kernel does (never less): sound, with
 * processed counts between "everything precise" and the kernel's.
 *
 * "Can this register hold a pointer here" comes from a forward may-analysis, needed to tell pointer
 * arithmetic (whose scalar operand must be precise) from plain arithmetic.
 */
import { helperById } from '../../bpf/abi/index.ts';
import { AluOp, CallSrc, Class, classOf, JmpOp, Mask, Mode, Size, Source } from '../../bpf/isa/index.ts';
import { backwardMasks, type FlowGraph, flowGraph } from './liveness.ts';
import { isLddw, type ProgSlot } from './program.ts';

const bit = (r: number): number => 1 << r;
const R0_R5 = 0x3f;
const R1_R5 = 0x3e;

/** The registers a non-scalar can be in after instruction s, given those before it. */
const pointersAfter = (s: ProgSlot, before: number): number => {
  const { code, dst, src } = s.raw;
  const cls = classOf(code);
  const x = (code & Mask.SOURCE) === Source.X;
  switch (cls) {
    case Class.ALU64: {
      const op = code & Mask.OP;
      if (op === AluOp.MOV) {
        const p = x && s.raw.off === 0 && before & bit(src);
        return p ? before | bit(dst) : before & ~bit(dst);
      }
      if (op === AluOp.ADD && x && before & bit(src)) return before | bit(dst);
      return before;
    }
    case Class.ALU:
      return before & ~bit(dst);
    case Class.LDX: {
      const size = code & Mask.SIZE;
      const wide = (code & Mask.MODE) === Mode.MEM && (size === Size.W || size === Size.DW);
      return wide ? before | bit(dst) : before & ~bit(dst);
    }
    case Class.STX:
      // atomic fetch/xchg/cmpxchg load into src or r0
      return (code & Mask.MODE) === Mode.ATOMIC ? before | bit(src) | bit(0) : before;
    case Class.LD:
      if (isLddw(s)) return s.raw.src === 0 ? before & ~bit(dst) : before | bit(dst);
      return before & ~R0_R5;
    case Class.JMP:
      if ((code & Mask.OP) === JmpOp.CALL) return (before & ~R0_R5) | bit(0);
      return before;
    default:
      return before;
  }
};

/** Registers that may hold a pointer before each instruction. */
const mayBePointer = (prog: readonly ProgSlot[], subprogs: readonly number[], g: FlowGraph): Uint16Array => {
  const n = prog.length;
  const at = new Uint16Array(n);
  const entry = new Set(subprogs);
  const work: number[] = [];
  for (const start of subprogs) {
    at[start] = start === 0 ? bit(1) | bit(10) : R1_R5 | bit(10);
    work.push(start);
  }
  while (work.length > 0) {
    const i = work.pop() as number;
    const s = prog[i] as ProgSlot;
    const out = pointersAfter(s, at[i] as number);
    for (let k = g.succFirst[i] as number; k < (g.succFirst[i + 1] as number); k++) {
      const t = g.succ[k] as number;
      if (entry.has(t)) continue;
      const merged = (at[t] as number) | out;
      if (merged !== at[t]) {
        at[t] = merged;
        work.push(t);
      }
    }
  }
  return at;
};

/** Registers needed precise before s, given those needed after it and the possible pointers before it. */
const neededBefore = (s: ProgSlot, out: number, ptr: number, exitNeedsR0: boolean): number => {
  const { code, dst, src, imm } = s.raw;
  const cls = classOf(code);
  const x = (code & Mask.SOURCE) === Source.X;
  const d = bit(dst);
  switch (cls) {
    case Class.ALU:
    case Class.ALU64: {
      const op = code & Mask.OP;
      if (op === AluOp.MOV) return (out & ~d) | (x && out & d ? bit(src) : 0);
      if (op === AluOp.NEG || op === AluOp.END || !x) return out;
      let inn = out & d ? out | bit(src) : out;
      // pointer arithmetic: the scalar side becomes the pointer's offset
      if (op === AluOp.ADD || op === AluOp.SUB) {
        if (ptr & d) inn |= bit(src);
        if (ptr & bit(src)) inn |= d;
      }
      return inn;
    }
    case Class.LDX:
      return out & ~d;
    case Class.ST:
      return out;
    case Class.STX:
      if ((code & Mask.MODE) === Mode.ATOMIC) return out | bit(src) | bit(0);
      return out | bit(src);
    case Class.LD:
      if (isLddw(s)) return out & ~d;
      return (out & ~R0_R5) | ((code & Mask.MODE) === Mode.IND ? bit(src) : 0);
    default: {
      const op = code & Mask.OP;
      if (op === JmpOp.EXIT) return exitNeedsR0 ? bit(0) : 0;
      if (op === JmpOp.CALL) {
        if (src === CallSrc.HELPER) {
          const nargs = helperById(imm)?.args.length ?? 5;
          return (out & ~R0_R5) | (((1 << (nargs + 1)) - 1) & R1_R5);
        }
        return (out & ~R0_R5) | R1_R5;
      }
      if (op === JmpOp.JA || op === JmpOp.JCOND) return out;
      return out | d | (x ? bit(src) : 0);
    }
  }
};

/**
 * Bit mask, before each instruction, of the registers whose scalar value must be compared exactly.
 * `retChecked`: the main program's R0 is range-checked at exit (check_return_code); a subprogram's
 * R0 is always kept (it becomes the caller's, or a callback's checked return value).
 */
export const preciseRegisters = (
  prog: readonly ProgSlot[],
  subprogs: readonly number[],
  retChecked: boolean,
  g: FlowGraph = flowGraph(prog),
): Uint16Array => {
  const mainEnd = subprogs[1] ?? prog.length;
  const ptr = mayBePointer(prog, subprogs, g);
  return backwardMasks(prog, g, (i, out) =>
    neededBefore(prog[i] as ProgSlot, out, ptr[i] as number, i >= mainEnd || retChecked),
  );
};
