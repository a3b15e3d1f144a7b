/**
 * Disassembler to the conformance/uBPF syntax: one line per instruction (lddw included), jump
 * targets as `+N`/`-N` slots, immediates formatted as the reference disassembler does (decimal for
 * negatives and -10..10, else the 32-bit pattern in hex). Every line assembles back to the same
 * instruction with `assembleUbpf`.
 */
import {
  checkSlot,
  findSpec,
  type Insn,
  IsaError,
  imm64Of,
  type RawSlot,
  slotIndex,
  toSlots,
} from '../../isa/index.ts';
import { atomicWords, callMode } from './mnemonics.ts';

const reg = (n: number): string => `%r${n}`;

/** Immediate: decimal when negative (except INT32_MIN) or small, else hex of the 32-bit pattern. */
export const formatImm = (imm: number): string =>
  (imm < 0 && imm !== -0x80000000) || (imm >= -10 && imm <= 10) ? String(imm) : `0x${(imm >>> 0).toString(16)}`;

const mem = (base: number, off: number): string =>
  off === 0 ? `[${reg(base)}]` : `[${reg(base)}${off > 0 ? '+' : ''}${off}]`;

const distance = (n: number): string => (n >= 0 ? `+${n}` : String(n));

/** One instruction as text. The instruction must be valid (its fields as checkSlot requires). */
export const formatUbpf = (insn: Insn): string => {
  const { spec, dst, src, off, imm } = insn;
  const name = spec.name;
  switch (spec.kind) {
    case 'alu':
      return `${name} ${reg(dst)}, ${spec.source === 'X' ? reg(src) : formatImm(imm)}`;
    case 'neg':
    case 'end':
      return `${name} ${reg(dst)}`;
    case 'lddw':
      if (spec.op === 'imm64') return `${name} ${reg(dst)}, 0x${imm64Of(insn).toString(16)}`;
      return `${name} ${reg(dst)}, ${formatImm(imm)}${insn.imm2 === 0 ? '' : `, ${formatImm(insn.imm2)}`}`;
    case 'ldabs':
      return `${name} ${formatImm(imm)}`;
    case 'ldind':
      return `${name} ${reg(src)}, ${formatImm(imm)}`;
    case 'ldx':
      return `${name} ${reg(dst)}, ${mem(src, off)}`;
    case 'st':
      return `${name} ${mem(dst, off)}, ${formatImm(imm)}`;
    case 'stx':
      return `${name} ${mem(dst, off)}, ${reg(src)}`;
    case 'atomic':
      return `lock ${atomicWords(spec)} ${mem(dst, off)}, ${reg(src)}`;
    case 'jmp':
      return `${name} ${reg(dst)}, ${spec.source === 'X' ? reg(src) : formatImm(imm)}, ${distance(off)}`;
    case 'ja':
      return `${name} ${distance(off)}`;
    case 'ja32':
      return `${name} ${distance(imm)}`;
    case 'call': {
      const mode = callMode(spec);
      if (mode === 'helper') return `call ${formatImm(imm)}`;
      if (mode === 'local') return `call local ${distance(imm)}`;
      return `call ${mode} ${formatImm(imm)}${off === 0 ? '' : `, ${off}`}`;
    }
    case 'callx':
      return `call ${reg(dst)}`;
    case 'exit':
      return 'exit';
    default:
      throw new Error(`no conformance/uBPF spelling for '${spec.name}'`);
  }
};

/**
 * Disassembles a program, one line per instruction. An instruction whose fields no valid encoding
 * has (built by hand, not decoded) throws an IsaError naming its slot, since text cannot carry it.
 */
export const disassembleUbpf = (insns: readonly Insn[]): string[] => {
  const { pcs } = slotIndex(insns);
  return insns.map((insn, i) => {
    const slots = toSlots(insn);
    const first = slots[0] as RawSlot;
    const problem = checkSlot(first, slots[1]);
    if (problem) throw new IsaError(problem.code, pcs[i] as number, problem.message);
    if (findSpec(first.code, first.src, first.off, first.imm) !== insn.spec) {
      throw new IsaError('RESERVED_FIELDS', pcs[i] as number, `fields do not encode '${insn.spec.name}'`);
    }
    return formatUbpf(insn);
  });
};
