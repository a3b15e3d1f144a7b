/**
 * `ukibpf run FILE.{o,bin,s}`: runs a program in the interpreter (runtime/vm) and prints R0.
 * The input memory (`--mem FILE` or `--mem-hex HEX`) is passed as bpf_conformance plugins do:
 * R1 = its address, R2 = its length. `--trace` prints one line per executed instruction with the
 * registers it changed. No helpers are registered yet (a call ends the run with "unknown helper").
 */
import type { Command } from 'commander';
import { AsmError } from '../../bpf/asm/errors.ts';
import { assembleLlvm } from '../../bpf/asm/llvm/index.ts';
import { assembleUbpf } from '../../bpf/asm/ubpf/index.ts';
import { ElfError, readObject } from '../../bpf/elf/index.ts';
import { decode, type Insn, IsaError } from '../../bpf/isa/index.ts';
import { formatTraceStep, type TraceStep, Vm, VmError } from '../../runtime/vm/index.ts';
import { parseHex } from '../../runtime/vm/plugin.ts';
import { CliError, ExitCode } from '../cli/exit.ts';
import { readInput } from '../cli/io.ts';
import { detectSyntax } from './asm.ts';

interface RunOptions {
  mem?: string;
  memHex?: string;
  trace?: boolean;
  maxInsns?: string;
  program?: string;
  json?: boolean;
}

const programOfObject = (bytes: Uint8Array, file: string, name: string | undefined): readonly Insn[] => {
  const obj = readObject(bytes, { file });
  // Programs first; an object holding only plain functions (.text) runs its function when there is one.
  const all = [...obj.programs, ...obj.subprograms];
  const fn =
    name === undefined
      ? (obj.programs[0] ?? (obj.subprograms.length === 1 ? obj.subprograms[0] : undefined))
      : all.find((p) => p.name === name);
  if (fn === undefined) {
    const names = all.map((p) => p.name).join(', ') || 'none';
    throw new CliError(
      `${file}: ${name === undefined ? 'choose a function with --program' : `no function '${name}'`} (functions: ${names})`,
    );
  }
  if (fn.relocations.length > 0) {
    throw new CliError(
      `${file}: program '${fn.name}' has ${fn.relocations.length} relocation(s) (maps, globals or calls into .text); ` +
        'running linked objects is not implemented yet',
    );
  }
  return fn.insns;
};

const loadInsns = (file: string, opts: RunOptions): readonly Insn[] => {
  if (!/\.(o|s|bin)$/.test(file))
    throw new CliError(`${file}: unknown kind of file (expected .o, .bin or .s)`, ExitCode.USAGE);
  const bytes = readInput(file);
  try {
    if (file.endsWith('.o')) return programOfObject(bytes, file, opts.program);
    if (file.endsWith('.s')) {
      const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      const program = detectSyntax(text) === 'ubpf' ? assembleUbpf(text, { file }) : assembleLlvm(text, { file });
      if (program.refs.length > 0) {
        throw new CliError(
          `${file}: refers to symbols (${program.refs.map((r) => r.symbol).join(', ')}); cannot run unlinked`,
        );
      }
      return program.insns;
    }
    return decode(bytes);
  } catch (e) {
    if (e instanceof IsaError || e instanceof AsmError || e instanceof ElfError) {
      throw new CliError(e instanceof AsmError ? e.message : `${file}: ${e.message}`, ExitCode.BAD_INPUT, { cause: e });
    }
    if (e instanceof TypeError) throw new CliError(`${file}: not UTF-8 text`, ExitCode.BAD_INPUT, { cause: e });
    throw e;
  }
};

const memoryOf = (opts: RunOptions): Uint8Array | undefined => {
  if (opts.mem !== undefined && opts.memHex !== undefined)
    throw new CliError('use --mem or --mem-hex, not both', ExitCode.USAGE);
  if (opts.mem !== undefined) return readInput(opts.mem).slice();
  if (opts.memHex === undefined) return undefined;
  try {
    return parseHex(opts.memHex, '--mem-hex');
  } catch (e) {
    throw new CliError(`${(e as Error).message} (expected hex bytes such as "01 02 ff")`, ExitCode.USAGE);
  }
};

const run = (file: string, opts: RunOptions): void => {
  const maxInsns = opts.maxInsns === undefined ? undefined : Number(opts.maxInsns);
  if (maxInsns !== undefined && (!Number.isSafeInteger(maxInsns) || maxInsns <= 0)) {
    throw new CliError(`--max-insns needs a positive integer (got '${opts.maxInsns}')`, ExitCode.USAGE);
  }
  const mem = memoryOf(opts);
  const insns = loadInsns(file, opts);
  const steps: TraceStep[] = [];
  const trace = opts.trace
    ? (s: TraceStep) => (opts.json ? steps.push(s) : process.stdout.write(`${formatTraceStep(s)}\n`))
    : undefined;
  try {
    const vm = new Vm(insns, { maxInsns });
    const r = vm.run({ mem, trace });
    if (opts.json) {
      const json = {
        file,
        r0: `0x${r.r0.toString(16)}`,
        r0Signed: BigInt.asIntN(64, r.r0).toString(),
        insns: r.insns,
        ...(opts.trace
          ? { trace: steps.map((s) => ({ ...s, changes: s.changes.map(([reg, v]) => [reg, `0x${v.toString(16)}`]) })) }
          : {}),
      };
      process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    } else {
      process.stdout.write(`0x${r.r0.toString(16)}\n`);
    }
  } catch (e) {
    if (e instanceof VmError) throw new CliError(`${file}: ${e.message}`, ExitCode.REJECTED, { cause: e });
    throw e;
  }
};

export const register = (program: Command): void => {
  program
    .command('run')
    .description('run a BPF program in the interpreter and print R0')
    .argument('<file>', 'program: BPF ELF object (.o), raw instructions (.bin) or assembly (.s)')
    .option('--mem <file>', 'input memory from a file (R1 = its address, R2 = its length)')
    .option('--mem-hex <hex>', 'input memory as hex bytes, e.g. "01 02 ff"')
    .option('--trace', 'print each executed instruction with the registers it changed')
    .option('--max-insns <n>', 'instruction budget (default 1000000)')
    .option('--program <name>', 'which program of an object to run (default: the first)')
    .option('--json', 'print R0, the instruction count (and the trace) as JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 ran to EXIT, 1 the run failed (bad memory access, budget, unknown helper; the\nmessage names pc, instruction, address, size and region), 2 usage, 3 bad input.\n',
    )
    .action((file: string, opts: RunOptions) => run(file, opts));
};
