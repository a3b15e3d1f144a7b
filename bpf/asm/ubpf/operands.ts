/**
 * Operand readers for one source line. Each reader records a problem instead of throwing and returns
 * a placeholder, so a line reports every bad operand, not only the first.
 */

import { MAX_REG } from '../../isa/index.ts';
import type { AsmDiagnostic } from '../errors.ts';
import type { Token } from './lexer.ts';
import { distance32, imm32, imm64, OperandFault, offset16 } from './numbers.ts';

/** A jump or call whose distance is a label, resolved once every label is known. */
export interface LabelRef {
  readonly label: string;
  readonly line: number;
  readonly col: number;
  /** Where the distance goes: `off` (16-bit jumps) or `imm` (ja32, call local). */
  readonly field: 'off' | 'imm';
}

const REGISTERS: ReadonlyMap<string, number> = new Map(
  Array.from({ length: MAX_REG + 1 }, (_, n) => [`%r${n}`, n] as const),
);

/** `[%rN]`, `[%rN+off]`, `[%rN-off]`: the sign belongs to the offset number. */
const MEMORY = /^\[([^\]+-]*)(?:([+-][^\]]*))?\]$/;

export class LineReader {
  readonly line: number;
  readonly diagnostics: AsmDiagnostic[];
  /** Set by `target` when the operand names a label. */
  labelRef: LabelRef | undefined;

  constructor(line: number, diagnostics: AsmDiagnostic[]) {
    this.line = line;
    this.diagnostics = diagnostics;
  }

  fault(col: number, message: string): void {
    this.diagnostics.push({ line: this.line, col, message });
  }

  private read<T>(tok: Token, parse: (text: string) => T, fallback: T): T {
    try {
      return parse(tok.text);
    } catch (e) {
      if (!(e instanceof OperandFault)) throw e;
      this.fault(tok.col, e.message);
      return fallback;
    }
  }

  reg(tok: Token): number {
    const n = REGISTERS.get(tok.text);
    if (n === undefined) {
      this.fault(tok.col, `Invalid register: ${tok.text}`);
      return 0;
    }
    return n;
  }

  /** The operand is a register (as opposed to an immediate) if it starts with `%`. */
  static isRegister(tok: Token): boolean {
    return tok.text.startsWith('%');
  }

  imm32(tok: Token): number {
    return this.read(tok, imm32, 0);
  }

  imm64(tok: Token): bigint {
    return this.read(tok, imm64, 0n);
  }

  offset16(tok: Token): number {
    return this.read(tok, offset16, 0);
  }

  /** A memory operand: base register and signed 16-bit displacement. */
  mem(tok: Token): { reg: number; off: number } {
    const m = MEMORY.exec(tok.text);
    if (m === null) {
      this.fault(tok.col, `Failed to decode register and offset: ${tok.text}`);
      return { reg: 0, off: 0 };
    }
    const reg = this.reg({ text: m[1] as string, col: tok.col + 1 });
    const offText = m[2];
    const off =
      offText === undefined ? 0 : this.offset16({ text: offText, col: tok.col + 1 + (m[1] as string).length });
    return { reg, off };
  }

  /**
   * A jump target: `+N`/`-N` slots, or a label (distance filled in later; 0 for now). Labels
   * cannot start with a sign, so the two never collide.
   */
  target(tok: Token, field: 'off' | 'imm'): number {
    const t = tok.text;
    if (t.startsWith('+') || t.startsWith('-')) return this.read(tok, field === 'off' ? offset16 : distance32, 0);
    this.labelRef = { label: t, line: this.line, col: tok.col, field };
    return 0;
  }
}
