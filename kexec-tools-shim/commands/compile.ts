/**
 * `ukibpf compile SRC.ts -o OUT [--emit elf|raw|asm|ir]`: compiles a DSL program (docs/DSL.md).
 * elf: a BPF object (programs, maps, .rodata, BTF line info with the TypeScript lines);
 * raw: the instructions of one program (`--program`), little-endian; asm: the annotated listing;
 * ir: the optimised IR. Diagnostics go to stderr as `file:line:col: error DSLnnnn: message`
 * (all of them; `--json` prints them as JSON on stdout) and the exit code is 1.
 */
import type { Command } from 'commander';
import { CliError, ExitCode } from '../cli/exit.ts';
import { readInput, writeFileAtomic } from '../cli/io.ts';

const EMITS = ['elf', 'raw', 'asm', 'ir'] as const;
type Emit = (typeof EMITS)[number];

interface CompileOptions {
  output?: string;
  emit: string;
  program?: string;
  json?: boolean;
}

const compile = async (src: string, opts: CompileOptions): Promise<void> => {
  if (!(EMITS as readonly string[]).includes(opts.emit)) {
    throw new CliError(`--emit must be one of ${EMITS.join(', ')} (got '${opts.emit}')`, ExitCode.USAGE);
  }
  const emit = opts.emit as Emit;
  if (emit === 'elf' && opts.output === undefined)
    throw new CliError('-o OUT is required for --emit elf', ExitCode.USAGE);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(readInput(src));
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${src}: not UTF-8 text`);
  }
  // the compiler brings the TypeScript compiler API (~0.5 s to load): only this command loads it
  const { compileSource, formatDiagnostic, listing, rawBytes, writeElf } = await import('../../compiler/index.ts');
  const started = performance.now();
  const out = compileSource(src, text);
  const ms = performance.now() - started;
  if (out.diagnostics.length > 0) {
    if (opts.json) process.stdout.write(`${JSON.stringify({ ok: false, diagnostics: out.diagnostics }, null, 2)}\n`);
    else for (const d of out.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
    throw new CliError(`${src}: ${out.diagnostics.length} error(s)`, ExitCode.REJECTED);
  }
  const pick = () => {
    const p = opts.program === undefined ? out.programs[0] : out.programs.find((x) => x.name === opts.program);
    if (p === undefined)
      throw new CliError(
        `${src}: no program '${opts.program}' (programs: ${out.programs.map((x) => x.name).join(', ')})`,
        ExitCode.USAGE,
      );
    return p;
  };
  const data: Uint8Array | string =
    emit === 'elf'
      ? writeElf(out)
      : emit === 'raw'
        ? rawBytes(pick())
        : emit === 'asm'
          ? listing(out)
          : out.programs.map((p) => p.ir).join('\n');
  if (opts.output === undefined) process.stdout.write(data);
  else writeFileAtomic(opts.output, data);
  if (opts.json) {
    const programs = out.programs.map((p) => ({
      name: p.name,
      section: p.section,
      insns: p.insns.length,
      stack: p.stackSize,
    }));
    process.stdout.write(
      `${JSON.stringify({ ok: true, output: opts.output ?? null, emit, programs, maps: out.maps.map((m) => m.name), ms: Math.round(ms) }, null, 2)}\n`,
    );
  }
};

export const register = (program: Command): void => {
  program
    .command('compile')
    .description('compile a TypeScript DSL program to BPF (docs/DSL.md)')
    .argument('<src>', 'the DSL source file (.ts)')
    .option('-o, --output <file>', 'output file (stdout for raw/asm/ir when left out)')
    .option('--emit <kind>', `what to write: ${EMITS.join(', ')}`, 'elf')
    .option('--program <name>', 'which program for --emit raw (default: the first)')
    .option('--json', 'print diagnostics, or a summary of the programs, as JSON')
    .action((src: string, opts: CompileOptions) => compile(src, opts));
};
