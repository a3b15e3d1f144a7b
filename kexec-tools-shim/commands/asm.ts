/**
 * `ukibpf asm FILE.s`: assembles conformance/uBPF syntax (`mov %r0, 1`) or LLVM pseudo-C syntax
 * (`r0 = 1`) and writes raw instruction bytes (`--raw`), or prints a listing (slot, bytes, text).
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { AsmError } from '../../bpf/asm/errors.ts';
import { objectFromAsm } from '../../bpf/asm/link.ts';
import { assembleLlvm, disassembleLlvm } from '../../bpf/asm/llvm/index.ts';
import type { AsmProgram } from '../../bpf/asm/program.ts';
import { assembleUbpf, disassembleUbpf } from '../../bpf/asm/ubpf/index.ts';
import { writeObject } from '../../bpf/elf/index.ts';
import { encode, SLOT_BYTES, slotIndex } from '../../bpf/isa/index.ts';
import { CliError, ExitCode } from '../cli/exit.ts';
import { readInput, writeFileAtomic } from '../cli/io.ts';

const SYNTAXES = ['ubpf', 'llvm'] as const;
type Syntax = (typeof SYNTAXES)[number];

interface AsmOptions {
  syntax?: string;
  raw?: string;
  output?: string;
  section: string;
  name?: string;
  license: string;
  json?: boolean;
}

/** `%r0`-style registers only occur in the conformance/uBPF syntax. */
export const detectSyntax = (text: string): Syntax => (/%r\d/.test(text) ? 'ubpf' : 'llvm');

const readText = (file: string): string => {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(readInput(file));
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${file}: not UTF-8 text`, ExitCode.BAD_INPUT, { cause: e });
  }
};

const assemble = (text: string, syntax: Syntax, file: string): AsmProgram => {
  try {
    return syntax === 'ubpf' ? assembleUbpf(text, { file }) : assembleLlvm(text, { file });
  } catch (e) {
    if (e instanceof AsmError) throw new CliError(e.message, ExitCode.BAD_INPUT, { cause: e });
    throw e;
  }
};

const hexBytes = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');

/** One line per instruction: slot, wire bytes, and the instruction in the syntax it was written in. */
const listing = (program: AsmProgram, syntax: Syntax): string[] => {
  const texts = syntax === 'ubpf' ? disassembleUbpf(program.insns) : disassembleLlvm(program.insns, { lossless: true });
  const { pcs } = slotIndex(program.insns);
  return program.insns.map((insn, i) => {
    const bytes = hexBytes(encode([insn]));
    return `${String(pcs[i]).padStart(5)}: ${bytes.padEnd(SLOT_BYTES * 6 - 1)}  ${texts[i] ?? ''}`;
  });
};

const run = (file: string, opts: AsmOptions): void => {
  if (opts.syntax !== undefined && !SYNTAXES.includes(opts.syntax as Syntax)) {
    throw new CliError(`--syntax must be one of ${SYNTAXES.join(', ')} (got '${opts.syntax}')`, ExitCode.USAGE);
  }
  const text = readText(file);
  const syntax = (opts.syntax as Syntax | undefined) ?? detectSyntax(text);
  const program = assemble(text, syntax, file);
  if (opts.raw !== undefined && program.refs.length > 0) {
    const names = [...new Set(program.refs.map((r) => r.symbol))].join(', ');
    throw new CliError(`${file}: refers to symbols (${names}); raw bytes cannot carry relocations`, ExitCode.BAD_INPUT);
  }
  const bytes = encode(program.insns);
  if (opts.raw !== undefined) writeFileAtomic(opts.raw, bytes);
  if (opts.output !== undefined) {
    const name =
      opts.name ??
      (basename(file)
        .replace(/\.[^.]*$/, '')
        .replace(/[^A-Za-z0-9_]/g, '_') ||
        'prog');
    const spec = objectFromAsm(program, {
      section: opts.section,
      name,
      license: opts.license,
      sourceFile: basename(file),
      sourceText: text,
    });
    writeFileAtomic(opts.output, writeObject(spec));
  }
  if (opts.json) {
    const summary = {
      file,
      syntax,
      instructions: program.insns.length,
      slots: bytes.length / SLOT_BYTES,
      labels: Object.fromEntries(program.labels),
      refs: program.refs,
      raw: opts.raw ?? null,
      object: opts.output ?? null,
      bytes: Buffer.from(bytes).toString('hex'),
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else if (opts.raw === undefined && opts.output === undefined) {
    process.stdout.write(
      listing(program, syntax)
        .map((l) => `${l}\n`)
        .join(''),
    );
  }
};

export const register = (program: Command): void => {
  program
    .command('asm')
    .description('assemble BPF assembly (conformance/uBPF or LLVM syntax) into instruction bytes')
    .argument('<file>', 'assembly source (.s)')
    .option('--syntax <syntax>', 'ubpf (mov %r0, 1) or llvm (r0 = 1); default: ubpf if the text uses %r registers')
    .option('--raw <out.bin>', 'write the encoded instructions (little-endian) to this file')
    .option('-o, --output <out.o>', 'write a BPF ELF object: one program, line_info pointing at the source lines')
    .option('--section <name>', 'SEC() name of the program in the object', 'socket')
    .option('--name <name>', 'program symbol name (default: the file name)')
    .option('--license <text>', 'license string of the object', 'GPL')
    .option('--json', 'print a JSON summary (counts, labels, bytes) instead of a listing')
    .addHelpText(
      'after',
      '\nSymbols the text refers to (r1 = my_map ll, call fn) become ELF relocations with -o.\nWithout --raw or -o, prints a listing: slot, bytes, instruction.\nExit codes: 0 ok, 2 usage, 3 bad input (every assembler diagnostic is printed as file:line:col).\n',
    )
    .action((file: string, opts: AsmOptions) => run(file, opts));
};
