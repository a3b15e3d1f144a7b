/**
 * The bpf_conformance plugin protocol (see the README's conformance section): the program arrives as
 * base16 text on stdin (`xx  xx  ...`, little-endian slots), the input memory as one argv argument
 * in the same format. The program runs with R1 = a private copy of the memory (0 when there is none),
 * R2 = its length, R10 = the top of the stack; helper 5 returns its R1 (uBPF's "unwind": when that is
 * 0 the program stops with R0 = 0). Success prints R0 in hex and exits 0; any failure prints one line
 * and exits 1. Pure: the caller does the I/O.
 */
import { readFileSync } from 'node:fs';
import { decode, IsaError } from '../../bpf/isa/index.ts';
import { toHex } from '../../bpf/u64.ts';
import { HelperTable } from './env.ts';
import { VmError } from './errors.ts';
import { Vm } from './interpreter.ts';

export interface PluginOutcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: 0 | 1;
}

export const PLUGIN_USAGE =
  'usage: bpf-conformance-plugin [<base16 memory bytes>] [--max-insns N] < <base16 program bytes>\n' +
  'Runs one eBPF program with the bpf_conformance plugin protocol and prints R0 in hex.\n';

/** The conformance helper table: only helper 5 (unwind), as the uBPF and rbpf plugins provide. */
export const conformanceHelpers = (): HelperTable =>
  new HelperTable([
    [
      5,
      (env) => {
        env.setReturn(env.arg(1));
        if (env.regs[0] === 0 && env.regs[1] === 0) env.halt();
      },
    ],
  ]);

class HexError extends Error {}

/** Bytes of base16 text: tokens separated by whitespace, each token pairs of hex digits. */
export const parseHex = (text: string, what: string): Uint8Array => {
  const compact = text.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(compact)) {
    throw new HexError(`${what} is not base16 bytes`);
  }
  return Uint8Array.from(Buffer.from(compact, 'hex'));
};

const fail = (message: string): PluginOutcome => ({ stdout: '', stderr: `${message}\n`, exitCode: 1 });

export const runPlugin = (argv: readonly string[], stdin: string): PluginOutcome => {
  let memText: string | undefined;
  let maxInsns: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--help') return { stdout: PLUGIN_USAGE, stderr: '', exitCode: 0 };
    if (a === '--max-insns') {
      maxInsns = Number(argv[++i]);
      if (!Number.isSafeInteger(maxInsns) || maxInsns <= 0) return fail('--max-insns needs a positive integer');
    } else if (a === '--elf') return fail('ELF input (--elf) is not supported by this plugin');
    else if (a.startsWith('--')) return fail(`unexpected argument: ${a}`);
    else if (memText === undefined) memText = a;
    else return fail(`unexpected argument: ${a}`);
  }
  try {
    const program = parseHex(stdin, 'program');
    const mem = memText === undefined ? undefined : parseHex(memText, 'memory');
    const vm = new Vm(decode(program), { helpers: conformanceHelpers(), maxInsns });
    const r0 = vm.run({ mem: mem && mem.length > 0 ? mem : undefined }).r0;
    return { stdout: `${toHex(Number(r0 & 0xffffffffn), Number(r0 >> 32n))}\n`, stderr: '', exitCode: 0 };
  } catch (e) {
    if (e instanceof HexError || e instanceof IsaError || e instanceof VmError) return fail(e.message);
    throw e;
  }
};

/** Process entry: reads stdin, runs, writes the outcome, sets the exit code. */
export const pluginMain = (): void => {
  let stdin = '';
  try {
    stdin = readFileSync(0, 'utf8');
  } catch {
    // no stdin: an empty program, reported below
  }
  const out = runPlugin(process.argv.slice(2), stdin);
  process.stdout.write(out.stdout);
  process.stderr.write(out.stderr);
  process.exitCode = out.exitCode;
};
