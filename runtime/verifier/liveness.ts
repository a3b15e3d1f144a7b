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
  const s = prog[i] as ProgSlot;
  const code = s.raw.code;
  const cls = classOf(code);
  if (cls !== Class.JMP && cls !== Class.JMP32) return [i + (isLddw(s) ? 2 : 1)];
  const op = code & Mask.OP;
  if (op === JmpOp.EXIT) return [];
  if (op === JmpOp.CALL) return [i + 1];
  if (op === JmpOp.JA) return [i + (cls === Class.JMP ? s.raw.off : s.raw.imm) + 1];
  return [i + 1, i + s.raw.off + 1];
};

/** Bit mask of registers live before each instruction (only meaningful at instruction starts). */
export const liveRegisters = (prog: readonly ProgSlot[]): Uint16Array => {
  const n = prog.length;
  const live = new Uint16Array(n);
  const ud = prog.map((s) => (s.continuation ? { use: 0, def: 0 } : useDef(s)));
  const succ = prog.map((s, i) => (s.continuation ? [] : successors(prog, i).filter((t) => t >= 0 && t < n)));
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = n - 1; i >= 0; i--) {
      if (prog[i]?.continuation) continue;
      let out = 0;
      for (const t of succ[i] as number[]) out |= live[t] as number;
      const u = ud[i] as UseDef;
      const inn = (u.use | (out & ~u.def)) & 0x7ff;
      if (inn !== live[i]) {
        live[i] = inn;
        changed = true;
      }
    }
  }
  return live;
};
