/**
 * Instruction text for errors and traces: the project's conformance/uBPF disassembler (bpf/asm/ubpf),
 * so the text assembles back. Never throws: a hand-built instruction it cannot spell shows its row name.
 */
import { formatUbpf } from '../../bpf/asm/ubpf/disassembler.ts';
import type { Insn } from '../../bpf/isa/index.ts';

export const formatInsn = (insn: Insn): string => {
  try {
    return formatUbpf(insn);
  } catch {
    return `${insn.spec.name} (dst r${insn.dst}, src r${insn.src}, off ${insn.off}, imm ${insn.imm})`;
  }
};
