/** What an assembler produces: instructions plus the symbolic facts an object writer needs. */
import type { Insn } from '../isa/index.ts';

/** A reference from an instruction to a symbol the assembler could not resolve itself. */
export interface SymbolRef {
  /** Index into `insns`. */
  readonly insn: number;
  readonly symbol: string;
  /** lddw of a symbol's address (map, global variable) or a call to a function by name. */
  readonly kind: 'lddw' | 'call';
}

export interface AsmProgram {
  readonly insns: readonly Insn[];
  /** Label name → slot index (jump target units). */
  readonly labels: ReadonlyMap<string, number>;
  readonly refs: readonly SymbolRef[];
  /** 1-based source line of each instruction. */
  readonly lines: readonly number[];
}
