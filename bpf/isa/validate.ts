/**
 * Field checks on raw slots, in the Linux verifier's order and wording ("BPF_ALU uses reserved fields",
 * "unknown opcode 8d", ...). The opcode table says which forms exist; this module says why a slot that
 * matches none of them is wrong, the way the kernel would say it.
 */
import { AluOp, CallSrc, Class, classOf, JmpOp, MAX_REG, Mask, Mode, Size, Source } from './fields.ts';
import type { RawSlot } from './insn.ts';
import { findSpec, isKnownOpcode } from './opcodes.ts';
import type { IsaErrorCode } from './errors.ts';

export interface FieldProblem {
  readonly code: IsaErrorCode;
  /** Kernel wording. */
  readonly message: string;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
const problem = (code: IsaErrorCode, message: string): FieldProblem => ({ code, message });
const reserved = (what: string): FieldProblem => problem('RESERVED_FIELDS', `${what} uses reserved fields`);

const checkAlu = (s: RawSlot): FieldProblem | undefined => {
  const op = s.code & Mask.OP;
  const isX = (s.code & Mask.SOURCE) === Source.X;
  const alu32 = classOf(s.code) === Class.ALU;
  if (op === AluOp.END || op === AluOp.NEG) {
    if (op === AluOp.NEG) {
      if (isX || s.src !== 0 || s.off !== 0 || s.imm !== 0) return reserved('BPF_NEG');
    } else if (s.src !== 0 || s.off !== 0 || (s.imm !== 16 && s.imm !== 32 && s.imm !== 64) || (!alu32 && isX)) {
      return reserved('BPF_END');
    }
    return undefined;
  }
  if (op === AluOp.MOV) {
    if (isX) {
      const offs = alu32 ? [0, 8, 16] : [0, 8, 16, 32];
      if (!offs.includes(s.off) || s.imm !== 0) return reserved('BPF_MOV');
    } else if (s.src !== 0 || s.off !== 0) {
      return reserved('BPF_MOV');
    }
    return undefined;
  }
  if (op > AluOp.END) return problem('UNKNOWN_OPCODE', `invalid BPF_ALU opcode ${op.toString(16)}`);
  const signedOk = s.off === 0 || (s.off === 1 && (op === AluOp.DIV || op === AluOp.MOD));
  if (isX ? s.imm !== 0 || !signedOk : s.src !== 0 || !signedOk) return reserved('BPF_ALU');
  return undefined;
};

const checkJmp = (s: RawSlot): FieldProblem | undefined => {
  const op = s.code & Mask.OP;
  const isX = (s.code & Mask.SOURCE) === Source.X;
  const jmp32 = classOf(s.code) === Class.JMP32;
  if (op === JmpOp.JA) {
    if (isX || s.src !== 0 || s.dst !== 0 || (!jmp32 && s.imm !== 0) || (jmp32 && s.off !== 0)) {
      return reserved('BPF_JA');
    }
    return undefined;
  }
  if (op === JmpOp.CALL) {
    // callx (not in RFC 9669; bpf_conformance group "callx") carries its target register in dst.
    // The kernel has no such opcode; its verifier reports that, not this layer.
    if (isX) {
      if (s.src !== 0 || s.off !== 0 || s.imm !== 0 || jmp32) return reserved('BPF_CALL');
      return undefined;
    }
    if (
      (s.src !== CallSrc.KFUNC && s.off !== 0) ||
      (s.src !== CallSrc.HELPER && s.src !== CallSrc.LOCAL && s.src !== CallSrc.KFUNC) ||
      s.dst !== 0 ||
      jmp32
    ) {
      return reserved('BPF_CALL');
    }
    return undefined;
  }
  if (op === JmpOp.EXIT) {
    if (isX || s.imm !== 0 || s.src !== 0 || s.dst !== 0 || s.off !== 0 || jmp32) return reserved('BPF_EXIT');
    return undefined;
  }
  if (isX ? s.imm !== 0 : s.src !== 0) return reserved('BPF_JMP/JMP32');
  return undefined;
};

const checkMem = (s: RawSlot): FieldProblem | undefined => {
  const cls = classOf(s.code);
  const mode = s.code & Mask.MODE;
  switch (cls) {
    case Class.LDX:
      if ((mode !== Mode.MEM && mode !== Mode.MEMSX) || s.imm !== 0) return reserved('BPF_LDX');
      return undefined;
    case Class.ST:
      if (mode !== Mode.MEM || s.src !== 0) return reserved('BPF_ST');
      return undefined;
    case Class.STX:
      if (mode === Mode.ATOMIC) {
        if ((s.code & Mask.SIZE) !== Size.W && (s.code & Mask.SIZE) !== Size.DW) {
          return problem('RESERVED_FIELDS', 'invalid atomic operand size');
        }
        if (findSpec(s.code, s.src, s.off, s.imm) === undefined) {
          return problem('RESERVED_FIELDS', `BPF_ATOMIC uses invalid atomic opcode ${hex2(s.imm & 0xff)}`);
        }
        return undefined;
      }
      if (mode !== Mode.MEM || s.imm !== 0) return reserved('BPF_STX');
      return undefined;
    default: {
      // LD: lddw or legacy packet loads.
      if (mode === Mode.IMM) {
        if ((s.code & Mask.SIZE) !== Size.DW) return problem('RESERVED_FIELDS', 'invalid BPF_LD_IMM insn');
        if (s.src > 6) return problem('BAD_LDDW', 'unrecognized bpf_ld_imm64 insn');
        if (s.off !== 0) return reserved('BPF_LD_IMM64');
        return undefined;
      }
      if (s.dst !== 0 || s.off !== 0 || (s.code & Mask.SIZE) === Size.DW || (mode === Mode.ABS && s.src !== 0)) {
        return reserved('BPF_LD_[ABS|IND]');
      }
      return undefined;
    }
  }
};

/**
 * Checks one slot (and, for lddw, the slot after it). Returns undefined when the slot encodes a known
 * instruction form with all unused fields zero.
 */
export const checkSlot = (s: RawSlot, next: RawSlot | undefined): FieldProblem | undefined => {
  if (!isKnownOpcode(s.code)) return problem('UNKNOWN_OPCODE', `unknown opcode ${hex2(s.code)}`);
  if (s.code === (Mode.IMM | Size.DW | Class.LD)) {
    if (next === undefined || next.code !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) {
      return problem('BAD_LDDW', 'invalid bpf_ld_imm64 insn');
    }
  }
  if (s.dst > MAX_REG) return problem('BAD_REGISTER', `R${s.dst} is invalid`);
  if (s.src > MAX_REG) return problem('BAD_REGISTER', `R${s.src} is invalid`);
  const cls = classOf(s.code);
  const found =
    cls === Class.ALU || cls === Class.ALU64
      ? checkAlu(s)
      : cls === Class.JMP || cls === Class.JMP32
        ? checkJmp(s)
        : checkMem(s);
  if (found) return found;
  // Belt and braces: whatever passed the kernel's checks must be a row of the table.
  if (findSpec(s.code, s.src, s.off, s.imm) === undefined) {
    return problem('RESERVED_FIELDS', `unknown opcode ${hex2(s.code)}`);
  }
  return undefined;
};
