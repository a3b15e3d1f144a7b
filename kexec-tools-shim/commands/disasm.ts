/**
 * `ukibpf disasm FILE.{o,bin}`: prints a program in one of three syntaxes — LLVM pseudo-C exactly as
 * `llvm-objdump -d` prints it, the conformance/uBPF syntax, or the kernel verifier log's form.
 */
import type { Command } from 'commander';
import { disassembleKernel } from '../../bpf/asm/kernel-log.ts';
import { disassembleLlvm } from '../../bpf/asm/llvm/index.ts';
import { disassembleUbpf } from '../../bpf/asm/ubpf/index.ts';
import {
  type BpfFunction,
  type BpfObject,
  ELF_MAGIC,
  ElfError,
  readObject,
  relocTypeName,
  STT,
} from '../../bpf/elf/index.ts';
import { type ByteOrder, decode, encode, type Insn, IsaError, slotIndex } from '../../bpf/isa/index.ts';
import { CliError, ExitCode } from '../cli/exit.ts';
import { readInput } from '../cli/io.ts';

const SYNTAXES = ['llvm', 'ubpf', 'log'] as const;
type Syntax = (typeof SYNTAXES)[number];

interface DisasmOptions {
  syntax: string;
  prog?: string;
  alu32?: boolean;
  source?: boolean;
  order: string;
  json?: boolean;
}

/** One function to print: its instructions plus what an object knows about them. */
interface Listing {
  readonly section: string;
  readonly name: string;
  /** Byte offset of the function in its section (0 for raw input). */
  readonly offset: number;
  /** Function symbols of the section, for llvm-objdump's `<name+0xoff>` jump annotations. */
  readonly symbols: readonly { name: string; offset: number }[];
  readonly insns: readonly Insn[];
  /** Byte order of the object, for the bytes column. */
  readonly order: ByteOrder;
  readonly relocations: readonly { insn: number; type: string; symbol: string }[];
  readonly lines: readonly { insn: number; text: string }[];
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');

const texts = (l: Listing, syntax: Syntax, alu32: boolean): string[] => {
  const { insns } = l;
  switch (syntax) {
    case 'llvm':
      return disassembleLlvm(insns, {
        alu32,
        ...(l.symbols.length > 0 ? { context: { section: l.section, symbols: l.symbols } } : {}),
      });
    case 'ubpf':
      return disassembleUbpf(insns);
    case 'log':
      return disassembleKernel(insns, { index: false });
  }
};

const fromFunction = (f: BpfFunction, obj: BpfObject): Listing => ({
  order: obj.order,
  section: f.section,
  name: f.name,
  offset: f.offset,
  // Function and local label symbols (clang's LBB*), relative to this function's start.
  symbols: obj.symbols
    .filter((sym) => sym.section === f.section && sym.name !== '' && (sym.type === STT.FUNC || sym.type === STT.NOTYPE))
    .map((sym) => ({ name: sym.name, offset: sym.value - f.offset })),
  insns: f.insns,
  relocations: f.relocations.map((r) => ({ insn: r.insn, type: relocTypeName(r.type), symbol: r.symbol.name })),
  lines: f.lines.flatMap((l) => (l.text ? [{ insn: l.insn, text: l.text }] : [])),
});

const isElf = (bytes: Uint8Array): boolean => ELF_MAGIC.every((b, i) => bytes[i] === b);

const load = (file: string, opts: DisasmOptions): Listing[] => {
  const bytes = readInput(file);
  try {
    if (isElf(bytes)) {
      const obj = readObject(bytes, { file });
      // As llvm-objdump: sections in header order, functions by address.
      const sectionIndex = new Map(obj.sections.map((sec, i) => [sec.name, i]));
      const fns = [...obj.programs, ...obj.subprograms].sort(
        (a, b) => (sectionIndex.get(a.section) ?? 0) - (sectionIndex.get(b.section) ?? 0) || a.offset - b.offset,
      );
      const all = fns.map((f) => fromFunction(f, obj));
      const chosen = opts.prog === undefined ? all : all.filter((l) => l.name === opts.prog);
      if (chosen.length === 0) {
        const names = all.map((l) => l.name).join(', ') || 'none';
        throw new CliError(`${file}: no program named '${opts.prog}' (programs: ${names})`, ExitCode.USAGE);
      }
      return chosen;
    }
    const insns = decode(bytes, opts.order as ByteOrder);
    return [
      {
        section: '(raw)',
        name: file,
        offset: 0,
        symbols: [],
        insns,
        order: opts.order as ByteOrder,
        relocations: [],
        lines: [],
      },
    ];
  } catch (e) {
    if (e instanceof ElfError || e instanceof IsaError) {
      const where = e instanceof IsaError ? ` at byte offset ${e.offset}` : '';
      throw new CliError(`${file}: ${e.message}${where}`, ExitCode.BAD_INPUT, { cause: e });
    }
    throw e;
  }
};

/** Text output shaped like `llvm-objdump -dr [-S]`: address, bytes, instruction, relocations. */
const render = (l: Listing, syntax: Syntax, opts: DisasmOptions): string[] => {
  const out = [`${l.offset.toString(16).padStart(16, '0')} <${l.name}>:`];
  const body = texts(l, syntax, opts.alu32 ?? false);
  const base = l.offset / 8;
  const { pcs } = slotIndex(l.insns);
  l.insns.forEach((insn, i) => {
    if (opts.source) for (const line of l.lines) if (line.insn === i) out.push(`; ${line.text}`);
    const pc = pcs[i] as number;
    for (const sym of l.symbols) {
      if (pc > 0 && sym.offset === pc * 8)
        out.push('', `${(l.offset + sym.offset).toString(16).padStart(16, '0')} <${sym.name}>:`);
    }
    // llvm-objdump counts BPF addresses in 8-byte slots from the section start; the log from the program start.
    const addr = syntax === 'log' ? `${pc}:` : `${String(base + pc).padStart(8)}:`;
    out.push(`${addr}\t${hex(encode([insn], l.order))}\t${body[i] ?? ''}`);
    for (const r of l.relocations) {
      if (r.insn === i) out.push(`\t\t${(l.offset + pc * 8).toString(16).padStart(16, '0')}:  ${r.type}\t${r.symbol}`);
    }
  });
  return out;
};

const run = (file: string, opts: DisasmOptions): void => {
  if (!SYNTAXES.includes(opts.syntax as Syntax)) {
    throw new CliError(`--syntax must be one of ${SYNTAXES.join(', ')} (got '${opts.syntax}')`, ExitCode.USAGE);
  }
  if (opts.order !== 'le' && opts.order !== 'be') {
    throw new CliError(`--order must be le or be (got '${opts.order}')`, ExitCode.USAGE);
  }
  const syntax = opts.syntax as Syntax;
  const listings = load(file, opts);
  if (opts.json) {
    const json = listings.map((l) => {
      const body = texts(l, syntax, opts.alu32 ?? false);
      const { pcs } = slotIndex(l.insns);
      return {
        section: l.section,
        name: l.name,
        insns: l.insns.map((insn, i) => ({ pc: pcs[i], bytes: hex(encode([insn], l.order)), text: body[i] })),
        relocations: l.relocations,
      };
    });
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    return;
  }
  const out: string[] = [];
  listings.forEach((l, i) => {
    if (i === 0 || listings[i - 1]?.section !== l.section) {
      if (i > 0) out.push('');
      out.push(`Disassembly of section ${l.section}:`);
    }
    out.push('', ...render(l, syntax, opts));
  });
  process.stdout.write(`${out.join('\n')}\n`);
};

export const register = (program: Command): void => {
  program
    .command('disasm')
    .description('disassemble a BPF ELF object or raw instruction bytes')
    .argument('<file>', 'a BPF ELF object (.o) or raw instructions (.bin)')
    .option('--syntax <syntax>', 'llvm (as llvm-objdump -d), ubpf (conformance syntax) or log (verifier log)', 'llvm')
    .option('--prog <name>', 'only this program or subprogram')
    .option('--alu32', 'print 32-bit memory operations with w registers, as llvm-objdump --mattr=+alu32')
    .option('-S, --source', 'interleave the source lines recorded in .BTF.ext line_info')
    .option('--order <le|be>', 'byte order of a raw .bin file', 'le')
    .option('--json', 'print instructions as JSON (pc, bytes, text) per program')
    .addHelpText('after', '\nExit codes: 0 ok, 2 usage, 3 bad input (the message names the byte offset).\n')
    .action((file: string, opts: DisasmOptions) => run(file, opts));
};
