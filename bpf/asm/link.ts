/**
 * Turns an assembled program into a one-program BPF ELF object spec: the whole text is one function
 * in the given SEC() section, unresolved symbols become relocations (externs for the loader to bind),
 * and every instruction gets a line_info record pointing at its assembly source line.
 */
import type { BpfObjectSpec, LineSpec, RelocSpec } from '../elf/index.ts';
import type { AsmProgram } from './program.ts';

export interface LinkOptions {
  /** SEC() name, e.g. `socket`, `xdp`, `fentry.s/kexec_pe_parser_hook`. */
  readonly section: string;
  /** Program (function symbol) name. */
  readonly name: string;
  readonly license: string;
  /** Source file name recorded in line_info. */
  readonly sourceFile: string;
  /** The source text, so line_info can carry each line (disassemblers and verifier logs print it). */
  readonly sourceText?: string;
}

export const objectFromAsm = (program: AsmProgram, opts: LinkOptions): BpfObjectSpec => {
  const sourceLines = opts.sourceText?.split('\n');
  const relocations: RelocSpec[] = program.refs.map((r) => ({ insn: r.insn, symbol: r.symbol }));
  const lines: LineSpec[] = program.lines.map((line, insn) => ({
    insn,
    line,
    col: 1,
    file: opts.sourceFile,
    ...(sourceLines?.[line - 1] === undefined ? {} : { text: (sourceLines[line - 1] as string).trim() }),
  }));
  return {
    programs: [{ name: opts.name, section: opts.section, insns: program.insns, relocations, lines }],
    license: opts.license,
    sourceFile: opts.sourceFile,
  };
};
