/**
 * `ukibpf verify FILE.o`: runs the verifier (runtime/verifier) on every program of a BPF object,
 * linked as libbpf would load it, with the program type from its section name. Prints the verdict,
 * and the kernel-format log at `--log-level`; `--kernel` also loads each program into the running
 * kernel (root) and shows both verdicts. Exit 0 only when every program is accepted.
 */
import type { Command } from 'commander';
import { PROG_TYPES, progTypeForSection } from '../../bpf/abi/index.ts';
import { ElfError, readObject } from '../../bpf/elf/index.ts';
import { BpfError, closeFd, mapCreate, mapUpdate, progLoad } from '../../runtime/linux/index.ts';
import { type ProgramPolicy, type VerifierResult, verify } from '../../runtime/verifier/index.ts';
import {
  LinkError,
  type LinkedProgram,
  linkedVerifyOptions,
  linkProgram,
  policyForSection,
} from '../../runtime/verifier/load/object.ts';
import { CliError, ExitCode } from '../cli/exit.ts';
import { readInput } from '../cli/io.ts';

interface VerifyOptions {
  prog?: string;
  logLevel?: string;
  progType?: string;
  kernel?: boolean;
  json?: boolean;
}

interface KernelVerdict {
  readonly accepted: boolean;
  readonly message: string;
  readonly log: string;
}

interface Report {
  readonly name: string;
  readonly section: string;
  readonly result: VerifierResult;
  readonly kernel: KernelVerdict | undefined;
}

const SLEEPABLE = 16;

/** Loads a linked program into the running kernel with its maps (global data filled, not frozen). */
const loadInKernel = (l: LinkedProgram, progType: number, logLevel: number): KernelVerdict => {
  const fds: number[] = [];
  try {
    const mapFds = l.maps.map((m) => {
      const fd = mapCreate({
        mapType: m.type,
        keySize: m.keySize,
        valueSize: m.valueSize,
        maxEntries: m.maxEntries,
        flags: m.flags ?? 0,
      });
      fds.push(fd);
      if (m.data) mapUpdate(fd, new Uint8Array(4), m.data);
      return fd;
    });
    const bytes = new Uint8Array(l.slots.length * 8);
    const view = new DataView(bytes.buffer);
    l.slots.forEach((s, i) => {
      const isMapRef = s.code === 0x18 && (s.src === 1 || s.src === 2);
      view.setUint8(i * 8, s.code);
      view.setUint8(i * 8 + 1, (s.src << 4) | s.dst);
      view.setInt16(i * 8 + 2, s.off, true);
      view.setInt32(i * 8 + 4, isMapRef ? (mapFds[s.imm] ?? -1) : s.imm, true);
    });
    try {
      const r = progLoad({
        progType,
        insns: bytes,
        license: l.license,
        logLevel: Math.max(logLevel, 1),
        expectedAttachType: l.match?.expectedAttachTypeId ?? 0,
        progFlags: l.match?.sleepable ? SLEEPABLE : 0,
        name: l.name.slice(0, 15),
      });
      fds.push(r.fd);
      return { accepted: true, message: '', log: r.log };
    } catch (e) {
      if (!(e instanceof BpfError) || e.command !== 'PROG_LOAD') throw e;
      const lines = e.log.split('\n').filter((x) => x.trim() && !/^(processed|verification time|stack depth)/.test(x));
      return { accepted: false, message: lines[lines.length - 1] ?? e.message, log: e.log };
    }
  } finally {
    for (const fd of fds) closeFd(fd);
  }
};

const policyFor = (l: LinkedProgram, progType: string | undefined): { policy: ProgramPolicy; typeId: number } => {
  if (progType === undefined) {
    if (!l.policy || !l.match) {
      throw new CliError(
        `program '${l.name}' (section '${l.section}'): ${l.match ? `${l.match.progType} is not modelled by the verifier` : 'unknown section'}; use --prog-type socket_filter|xdp|syscall|tracing`,
        ExitCode.USAGE,
      );
    }
    return { policy: l.policy, typeId: l.match.progTypeId };
  }
  const row = PROG_TYPES.byName(`BPF_PROG_TYPE_${progType.toUpperCase()}`);
  const match = progTypeForSection(progType === 'socket_filter' ? 'socket' : progType);
  const policy = policyForSection(match);
  if (!row || !policy) throw new CliError(`--prog-type '${progType}' is not a modelled program type`, ExitCode.USAGE);
  return { policy, typeId: row.id };
};

const verifyObject = (file: string, opts: VerifyOptions): Report[] => {
  const logLevel = opts.logLevel === undefined ? 0 : Number(opts.logLevel);
  if (![0, 1, 2, 4, 5, 6].includes(logLevel)) {
    throw new CliError(`--log-level takes 1, 2 or 4 (or a sum with 4), got '${opts.logLevel}'`, ExitCode.USAGE);
  }
  let obj: ReturnType<typeof readObject>;
  try {
    obj = readObject(readInput(file), { file });
  } catch (e) {
    if (e instanceof ElfError) throw new CliError(`${file}: ${e.message}`, ExitCode.BAD_INPUT, { cause: e });
    throw e;
  }
  const fns = opts.prog === undefined ? obj.programs : obj.programs.filter((p) => p.name === opts.prog);
  if (fns.length === 0) {
    const names = obj.programs.map((p) => p.name).join(', ') || 'none';
    throw new CliError(`${file}: ${opts.prog ? `no program '${opts.prog}'` : 'no programs'} (programs: ${names})`);
  }
  return fns.map((fn) => {
    let linked: LinkedProgram;
    try {
      linked = linkProgram(obj, fn);
    } catch (e) {
      if (e instanceof LinkError)
        throw new CliError(`${file}: ${fn.name}: ${e.message}`, ExitCode.BAD_INPUT, { cause: e });
      throw e;
    }
    const { policy, typeId } = policyFor(linked, opts.progType);
    const result = verify(linked.slots, { ...linkedVerifyOptions(linked, policy), logLevel });
    let kernel: KernelVerdict | undefined;
    if (opts.kernel) {
      try {
        kernel = loadInKernel(linked, typeId, logLevel);
      } catch (e) {
        if (e instanceof BpfError) throw new CliError(`--kernel: ${e.message}`, ExitCode.INTERNAL, { cause: e });
        throw e;
      }
    }
    return { name: fn.name, section: fn.section, result, kernel };
  });
};

const verdict = (accepted: boolean, message: string | undefined): string =>
  accepted ? 'accepted' : `rejected: ${message ?? ''}`;

const print = (reports: readonly Report[], opts: VerifyOptions): void => {
  if (opts.json) {
    const json = reports.map((r) => ({
      program: r.name,
      section: r.section,
      accepted: r.result.accepted,
      error: r.result.error
        ? { insn: r.result.error.insnIdx, message: r.result.error.message, unsupported: r.result.error.unsupported }
        : null,
      stats: r.result.stats,
      log: r.result.log,
      ...(r.kernel ? { kernel: { accepted: r.kernel.accepted, message: r.kernel.message } } : {}),
    }));
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    return;
  }
  for (const r of reports) {
    if (r.result.log && opts.logLevel) process.stdout.write(r.result.log);
    const ours = verdict(
      r.result.accepted,
      r.result.error && `insn ${r.result.error.insnIdx}: ${r.result.error.message}`,
    );
    const stats = `${r.result.stats.insnProcessed} insns processed`;
    process.stdout.write(`${r.section}/${r.name}: ${ours} (${stats})\n`);
    if (r.kernel)
      process.stdout.write(`${r.section}/${r.name}: kernel ${verdict(r.kernel.accepted, r.kernel.message)}\n`);
    if (!r.result.accepted && !opts.logLevel && r.result.summary) process.stdout.write(`${r.result.summary}\n`);
  }
};

export const register = (program: Command): void => {
  program
    .command('verify')
    .description('verify every program of a BPF object as the Linux verifier would')
    .argument('<file>', 'BPF ELF object (.o)')
    .option('--prog <name>', 'verify only this program')
    .option('--log-level <n>', 'print the verifier log: 1 verbose, 2 with states, 4 statistics')
    .option('--prog-type <type>', 'program type instead of the section name (socket_filter, xdp, syscall)')
    .option('--kernel', 'also load each program into the running kernel (root) and show both verdicts')
    .option('--json', 'print verdicts, errors, statistics and logs as JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 all programs accepted, 1 a program was rejected, 2 usage, 3 bad input, 4 kernel load failed.\n',
    )
    .action((file: string, opts: VerifyOptions) => {
      const reports = verifyObject(file, opts);
      print(reports, opts);
      if (reports.some((r) => !r.result.accepted)) process.exitCode = ExitCode.REJECTED;
    });
};
