/**
 * Verifier test programs written in LLVM/kernel pseudo-C assembly. Symbols the assembler leaves
 * unresolved are bound the way a loader binds them:
 * - `r1 = NAME ll` with NAME a map of the program: lddw src=1 (BPF_PSEUDO_MAP_FD, imm = map index);
 * - `r1 = val_NAME ll`: lddw src=2 (BPF_PSEUDO_MAP_VALUE of that map, offset 0);
 * - `r2 = fn_LABEL ll`: lddw src=4 (BPF_PSEUDO_FUNC, the callback starting at LABEL);
 * - `call bpf_xxx`: a helper call by id (bpf/abi's table).
 */
import { helperId } from '../../../../bpf/abi/index.ts';
import { assembleLlvm } from '../../../../bpf/asm/llvm/index.ts';
import { type Insn, type RawSlot, toSlots } from '../../../../bpf/isa/index.ts';
import type { MapDesc } from '../../../../runtime/verifier/index.ts';

export const asmSlots = (text: string, maps: readonly MapDesc[] = []): RawSlot[] => {
  const p = assembleLlvm(text);
  const insns: Insn[] = [...p.insns];
  const pcs: number[] = [];
  let pc = 0;
  for (const i of insns) {
    pcs.push(pc);
    pc += i.spec.slots;
  }
  for (const ref of p.refs) {
    const insn = insns[ref.insn] as Insn;
    const at = pcs[ref.insn] as number;
    if (ref.kind === 'call') {
      const id = helperId(ref.symbol);
      if (id === undefined) throw new Error(`unknown helper or label ${ref.symbol}`);
      insns[ref.insn] = { ...insn, src: 0, imm: id };
      continue;
    }
    const byName = (n: string): number => {
      const i = maps.findIndex((m) => m.name === n);
      if (i < 0) throw new Error(`unknown map ${n}`);
      return i;
    };
    if (ref.symbol.startsWith('fn_')) {
      const target = p.labels.get(ref.symbol.slice(3));
      if (target === undefined) throw new Error(`unknown label ${ref.symbol}`);
      insns[ref.insn] = { ...insn, src: 4, imm: target - at - 1, imm2: 0 };
    } else if (ref.symbol.startsWith('val_')) {
      insns[ref.insn] = { ...insn, src: 2, imm: byName(ref.symbol.slice(4)), imm2: 0 };
    } else {
      insns[ref.insn] = { ...insn, src: 1, imm: byName(ref.symbol), imm2: 0 };
    }
  }
  return insns.flatMap(toSlots);
};
