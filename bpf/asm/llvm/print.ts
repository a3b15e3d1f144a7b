/**
 * The LLVM disassembler: each instruction as the text `llvm-objdump -d` (LLVM 14) prints after the
 * bytes column, e.g. `r0 = *(u32 *)(r1 + 4)`, `if w1 s> -5 goto +3 <LBB0_4>`, `r1 = 0 ll`.
 *
 * Where LLVM 14 cannot print a form (v4 instructions, BPF_ST, JSET, MOD, 32-bit atomics without +alu32:
 * `<unknown>` or a wrong decode), the spelling of newer LLVM's BPFInstrInfo.td is used, with LLVM 14's
 * number format. `callx` names its register from dst as LLVM >= 19 does (LLVM 14 read imm).
 *
 * LLVM's syntax cannot tell a few encodings apart: `call N` is a helper, a bpf-to-bpf call or a kfunc
 * call; `ld_pseudo` drops the second slot's imm; `skb[rN]` drops an indirect load's imm. With
 * `lossless` those print in an extended spelling that assembleLlvm reads back to the same bytes:
 * `call pc+N` (local), `call kfunc N[, BTF_FD_INDEX]`, `ld_pseudo rD, S, IMM, IMM2`, `skb[rN + IMM]`.
 */
import { type AluName, type AtomicName, type CondName, type Insn, imm64Of, slotIndex } from '../../isa/index.ts';
import { ALU_OPERATOR, ATOMIC_OPERATOR, COND_OPERATOR, memType } from './syntax.ts';
import { type SectionContext, TargetNames } from './targets.ts';

export interface LlvmDisasmOptions {
  /**
   * Print 32-bit loads, stores and atomics with w registers, as `llvm-objdump --mattr=+alu32` does
   * (and LLVM >= 19 by default). Off: as plain `llvm-objdump -d` of LLVM 14.
   */
  readonly alu32?: boolean;
  /** Spell the forms LLVM's syntax cannot tell apart distinctly, so the text assembles to the same bytes. */
  readonly lossless?: boolean;
  /** Section name and symbols: annotate jumps with `<symbol+0xoff>` as llvm-objdump does. */
  readonly context?: SectionContext;
}

const reg = (n: number, wide: boolean): string => `${wide ? 'r' : 'w'}${n}`;
const mem = (base: number, off: number): string => `r${base} ${off < 0 ? '-' : '+'} ${Math.abs(off)}`;
const signedOffset = (n: number): string => (n >= 0 ? `+${n}` : `${n}`);

const aluText = (insn: Insn): string => {
  const { spec } = insn;
  const wide = spec.width === 64;
  const dst = reg(insn.dst, wide);
  const op = spec.op as AluName;
  if (op === 'movsx') return `${dst} = (s${spec.size * 8})${reg(insn.src, wide)}`;
  const operator = ALU_OPERATOR[op];
  return `${dst} ${operator} ${spec.source === 'X' ? reg(insn.src, wide) : insn.imm}`;
};

const atomicText = (insn: Insn, alu32: boolean): string => {
  const { spec } = insn;
  const op = spec.op as AtomicName;
  const wide = spec.width === 64;
  const type = memType(spec.size);
  const addr = mem(insn.dst, insn.off);
  // LLVM 14 without +alu32 decodes only the 32-bit add, printing its value register as rN.
  const val = reg(insn.src, wide || (!alu32 && op === 'add'));
  const simple = ATOMIC_OPERATOR[op];
  if (simple !== undefined) return `lock *(${type} *)(${addr}) ${simple} ${val}`;
  if (op === 'xchg') return `${val} = ${wide ? 'xchg_64' : 'xchg32_32'}(${addr}, ${val})`;
  if (op === 'cmpxchg') {
    const r0 = reg(0, wide);
    return `${r0} = ${wide ? 'cmpxchg_64' : 'cmpxchg32_32'}(${addr}, ${r0}, ${val})`;
  }
  // fetch_add, fetch_or, fetch_and, fetch_xor
  return `${val} = atomic_${op}((${type} *)(${addr}), ${val})`;
};

const lddwText = (insn: Insn, lossless: boolean): string => {
  if (insn.src === 0) return `r${insn.dst} = ${BigInt.asIntN(64, imm64Of(insn))} ll`;
  const base = `ld_pseudo\tr${insn.dst}, ${insn.src}, ${insn.imm >>> 0}`;
  return lossless && insn.imm2 !== 0 ? `${base}, ${insn.imm2 >>> 0}` : base;
};

const callText = (insn: Insn, lossless: boolean): string => {
  if (lossless && insn.spec.op === 'local') return `call pc${signedOffset(insn.imm)}`;
  if (lossless && insn.spec.op === 'kfunc') return `call kfunc ${insn.imm}${insn.off !== 0 ? `, ${insn.off}` : ''}`;
  return `call ${insn.imm}`;
};

/** The text of one instruction at slot `pc` (the slot index is needed for jump annotations only). */
export const llvmInsnText = (insn: Insn, pc: number, opts: LlvmDisasmOptions = {}, targets?: TargetNames): string => {
  const { spec } = insn;
  const alu32 = opts.alu32 ?? false;
  const lossless = opts.lossless ?? false;
  const target = (offset: number): string =>
    targets === undefined ? signedOffset(offset) : `${signedOffset(offset)}${targets.annotate(pc + 1 + offset)}`;
  switch (spec.kind) {
    case 'alu':
      return aluText(insn);
    case 'neg': {
      const r = reg(insn.dst, spec.width === 64);
      return `${r} = -${r}`;
    }
    case 'end':
      return `r${insn.dst} = ${spec.op}${spec.size * 8} r${insn.dst}`;
    case 'lddw':
      return lddwText(insn, lossless);
    case 'ldabs':
      return `r0 = *(${memType(spec.size)} *)skb[${insn.imm}]`;
    case 'ldind': {
      const extra = lossless && insn.imm !== 0 ? ` ${insn.imm < 0 ? '-' : '+'} ${Math.abs(insn.imm)}` : '';
      return `r0 = *(${memType(spec.size)} *)skb[r${insn.src}${extra}]`;
    }
    case 'ldx': {
      const wide = spec.signed || spec.size === 8 || !alu32;
      return `${reg(insn.dst, wide)} = *(${memType(spec.size, spec.signed)} *)(${mem(insn.src, insn.off)})`;
    }
    case 'stx': {
      const wide = spec.size === 8 || !alu32;
      return `*(${memType(spec.size)} *)(${mem(insn.dst, insn.off)}) = ${reg(insn.src, wide)}`;
    }
    case 'st':
      return `*(${memType(spec.size)} *)(${mem(insn.dst, insn.off)}) = ${insn.imm}`;
    case 'atomic':
      return atomicText(insn, alu32);
    case 'jmp': {
      const wide = spec.width === 64;
      const rhs = spec.source === 'X' ? reg(insn.src, wide) : `${insn.imm}`;
      return `if ${reg(insn.dst, wide)} ${COND_OPERATOR[spec.op as CondName]} ${rhs} goto ${target(insn.off)}`;
    }
    case 'ja':
      return `goto ${target(insn.off)}`;
    case 'ja32':
      return `gotol ${target(insn.imm)}`;
    case 'call':
      return callText(insn, lossless);
    case 'callx':
      return `callx r${insn.dst}`;
    case 'exit':
      return 'exit';
    case 'jcond':
      return `may_goto ${target(insn.off)}`;
  }
};

/** One line of text per instruction, as llvm-objdump -d prints it (without address and bytes). */
export const disassembleLlvm = (insns: readonly Insn[], opts: LlvmDisasmOptions = {}): string[] => {
  const { pcs } = slotIndex(insns);
  const targets = opts.context === undefined ? undefined : new TargetNames(opts.context);
  return insns.map((insn, i) => llvmInsnText(insn, pcs[i] as number, opts, targets));
};
