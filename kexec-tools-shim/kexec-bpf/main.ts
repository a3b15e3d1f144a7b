/**
 * `kexec-bpf`: kexec-tools' load/unload/exec with the `.bpf` handshake, on the simulated kernel.
 * The kernel lives as long as this process: `-e` and `-u` act on what the same invocation loaded
 * (`kexec-bpf -l IMAGE -e`); the daemon (`kexec-bpfd`) keeps a kernel across requests.
 */
import { Command, CommanderError, Option } from 'commander';
import { ARCHES, type Arch } from '../../runtime/kernel/index.ts';
import { CliError, ExitCode } from '../cli/exit.ts';
import { VERSION } from '../cli/version.ts';
import { buildCmdline } from './cmdline.ts';
import { cmdlineText, dumpKimage, exitCodeOf, handover, kimageSummary, strerror } from './outcome.ts';
import { hashWithProgress } from './progress.ts';
import { LoaderSession, type LoadOutcome } from './session.ts';

interface Opts {
  load?: boolean;
  loadPanic?: boolean;
  unload?: boolean;
  exec?: boolean;
  kexecFileSyscall?: boolean;
  kexecSyscall?: boolean;
  initrd?: string;
  append?: string;
  commandLine?: string;
  reuseCmdline?: boolean;
  debug?: boolean;
  addon: string[];
  keyring: string[];
  sigEnforce?: boolean;
  dump?: string;
  json?: boolean;
  timeout: number;
  arch: Arch;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

const seconds = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new CliError(`--timeout: not a positive number of seconds: ${v}`, ExitCode.USAGE);
  return n;
};

const program = new Command('kexec-bpf')
  .description(
    'Load a signed UKI / EFI zboot kernel with kexec_file_load(2), running the parser in its .bpf section\n' +
      '(the simulated kernel lives for one invocation: use -l ... -e together, or kexec-bpfd)',
  )
  .version(
    `kexec-bpf ${VERSION} (kexec-tools options, kexec_file_load with a .bpf parser)`,
    '-v, --version',
    'print the version',
  )
  .argument('[kernel]', 'the kernel image (PE with a .bpf section, or a plain bzImage/Image)')
  .option('-l, --load', 'load the new kernel into the current kernel')
  .option('-p, --load-panic', 'load the new kernel for use on panic (the crash slot)')
  .option('-u, --unload', 'unload the current kexec target kernel (with -p: the crash kernel)')
  .option('-e, --exec', 'execute the loaded kernel (here: print the handover it would perform)')
  .option('-s, --kexec-file-syscall', 'use kexec_file_load(2) (the default and only mode)')
  .option('-c, --kexec-syscall', 'use kexec_load(2): refused, the .bpf flow needs kexec_file_load(2)')
  .option('--initrd <file>', 'the initrd to load with the kernel')
  .option('--append <string>', 'append to the kernel command line')
  .option('--command-line <string>', 'set the kernel command line')
  .option('--reuse-cmdline', "use the running kernel's command line (without BOOT_IMAGE=, crashkernel= for -p)")
  .option('-d, --debug', 'show the handshake, the verifier log and the kernel log')
  .option(
    '--addon <file>',
    'an addon for the parser (its base name goes to the addon-name map; repeatable)',
    collect,
    [],
  )
  .option('--keyring <cert>', 'a trusted certificate (PEM/DER) for the builtin keyring (repeatable)', collect, [])
  .option('--sig-enforce', 'require a valid signature (CONFIG_KEXEC_SIG_FORCE)')
  .option('--dump <dir>', 'write the loaded kernel, initrd, cmdline and kimage.json into DIR')
  .option('--json', 'print the outcome as JSON on stdout')
  .addOption(
    new Option('--timeout <seconds>', 'how long the kernel waits for the loader thread').argParser(seconds).default(10),
  )
  .addOption(
    new Option('--arch <arch>', "the simulated machine's architecture (its image probe: bzImage64 or arm64 Image)")
      .choices(ARCHES)
      .default('x86_64'),
  )
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)');

const say = (s: string): void => {
  process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
};

const validate = (kernel: string | undefined, o: Opts): void => {
  if (o.kexecSyscall) {
    throw new CliError(
      '-c/--kexec-syscall: kexec_load(2) is not supported; the .bpf parser flow exists only for kexec_file_load(2) (-s, the default)',
      ExitCode.USAGE,
    );
  }
  if (o.load && o.loadPanic) throw new CliError('-l and -p are exclusive', ExitCode.USAGE);
  if (o.unload && (o.load || o.loadPanic)) throw new CliError('-u cannot be combined with -l or -p', ExitCode.USAGE);
  if (!o.load && !o.loadPanic && !o.unload && !o.exec) {
    throw new CliError('nothing to do: give -l, -p, -u or -e', ExitCode.USAGE);
  }
  if ((o.load || o.loadPanic) && kernel === undefined) throw new CliError('No kernel specified', ExitCode.USAGE);
  if (!(o.load || o.loadPanic) && kernel !== undefined)
    throw new CliError(`${kernel}: a kernel is only taken with -l or -p`, ExitCode.USAGE);
};

const printStages = (out: LoadOutcome, all: boolean): void => {
  for (const [i, s] of out.stages.entries()) {
    if (!all && s.step !== 'prog') continue;
    say(
      `kexec-bpf: stage ${i}: .bpf section of ${s.sectionBytes} bytes: ${s.step === 'attached' ? 'loaded and attached' : `${s.step} failed: ${s.message}`}`,
    );
    if (all) for (const h of s.handshake) say(`kexec-bpf: stage ${i}: ThreadB: ${h}`);
    if (s.log !== '') say(s.log.replace(/^/gm, '  '));
  }
};

/** ThreadA's call, as -d shows it before the load (the fds are ThreadA's own). */
const describeCall = (kernel: string, o: Opts, cmdline: string | undefined): string => {
  const flags = [
    ...(o.loadPanic ? ['KEXEC_FILE_ON_CRASH'] : []),
    ...(o.initrd === undefined ? ['KEXEC_FILE_NO_INITRAMFS'] : []),
  ];
  const addons = o.addon.length ? `; ThreadB armed with addons ${o.addon.join(', ')}` : '';
  return (
    `kexec-bpf: ThreadA: kexec_file_load(kernel_fd=<${kernel}>, initrd_fd=${o.initrd === undefined ? '-1' : `<${o.initrd}>`}, ` +
    `cmdline=${cmdline === undefined ? 'NULL' : JSON.stringify(cmdline)}, flags=${flags.join('|') || '0'})${addons}`
  );
};

const run = async (kernel: string | undefined, o: Opts): Promise<number> => {
  validate(kernel, o);
  const panic = o.loadPanic === true;
  const cmdline =
    o.load || o.loadPanic
      ? buildCmdline({ commandLine: o.commandLine, reuse: o.reuseCmdline === true, append: o.append, panic })
      : undefined;
  // --json reports where the time went: ms since the process started, at each phase's end
  const timings: Record<string, number> = { started: Math.round(performance.now()) };
  const mark = (phase: string): void => {
    timings[phase] = Math.round(performance.now());
  };
  let session: LoaderSession;
  try {
    session = await LoaderSession.open({
      keyrings: o.keyring,
      sigEnforce: o.sigEnforce === true,
      timeoutMs: Math.round(o.timeout * 1000),
      arch: o.arch,
      fault: process.env.KEXEC_BPF_FAULT,
    });
  } catch (e) {
    throw new CliError(`cannot set up the keyring: ${e instanceof Error ? e.message : String(e)}`, ExitCode.BAD_INPUT, {
      cause: e,
    });
  }
  mark('opened');
  const report: Record<string, unknown> = {};
  let code: number = ExitCode.OK;
  try {
    if (o.unload) {
      const errno = await session.unload(panic);
      report.unload = { errno };
      if (errno !== 0) {
        say(`kexec_file_load(unload) failed: ${strerror(errno)}`);
        code = ExitCode.INTERNAL;
      }
    }
    if (kernel !== undefined) {
      const inputs = [kernel, ...(o.initrd === undefined ? [] : [o.initrd])];
      const hashes = o.json ? undefined : await hashWithProgress(inputs).catch(() => undefined);
      if (o.debug && hashes) for (const [p, h] of hashes) say(`kexec-bpf: ${p}: sha256 ${h}`);
      if (o.debug && !o.json) say(describeCall(kernel, o, cmdline));
      const out = await session.load({
        kernelPath: kernel,
        initrdPath: o.initrd,
        cmdline,
        panic,
        addons: o.addon,
        logLevel: o.debug ? 2 : 1,
      });
      mark('loaded');
      code = exitCodeOf(out);
      // the report and the dump both show it (the digests come with the kimage: no buffer is hashed again)
      const summary = out.kimage ? kimageSummary(out.kimage) : null;
      report.load = {
        errno: out.errno,
        message: out.errno === 0 ? null : strerror(out.errno),
        stages: out.stages,
        openFailed: out.openFailed ?? null,
        loaderCrash: out.loaderCrash ?? null,
        kimage: summary,
      };
      if (!o.json) printStages(out, o.debug === true);
      if (o.debug && !o.json && !out.openFailed)
        say(
          `kexec-bpf: ThreadA: kexec_file_load returned ${out.errno === 0 ? '0' : `${out.errno} (${strerror(out.errno)})`}`,
        );
      if (o.debug && !o.json) for (const line of session.kernel.dmesg()) say(line);
      if (out.openFailed)
        say(`Cannot open \`${out.openFailed.path}': ${strerror(-(osErrno[out.openFailed.code] ?? 5))}`);
      if (out.loaderCrash) say(`kexec-bpf: the loader thread died: ${out.loaderCrash}`);
      if (out.errno !== 0 || (out.loaderCrash && out.errno === 0)) {
        say(`kexec_file_load failed: ${out.errno === 0 ? 'the loader did not complete' : strerror(out.errno)}`);
      }
      if (code === ExitCode.OK && out.kimage && summary && o.dump !== undefined) {
        report.dumped = await dumpKimage(o.dump, out.kimage, summary);
        mark('dumped');
      }
    }
    if (o.exec && code === ExitCode.OK) {
      const k = session.kernel.kimage('default');
      if (k === undefined) {
        say('Nothing has been loaded!');
        code = ExitCode.REJECTED;
      } else {
        report.exec = { cmdline: cmdlineText(k) ?? null, digest: k.digest };
        if (!o.json) process.stdout.write(handover(k));
      }
    }
  } finally {
    await session.close();
  }
  mark('closed');
  // peak resident set of the whole process (all threads), as GNU time's %M would report it
  const maxRssKb = process.resourceUsage().maxRSS;
  if (o.json) process.stdout.write(`${JSON.stringify({ exitCode: code, ...report, timings, maxRssKb }, null, 2)}\n`);
  return code;
};

/** The OS errno of a Node error code, for kexec-tools' "Cannot open" wording. */
const osErrno: Record<string, number> = { ENOENT: 2, EACCES: 13, EISDIR: 21, ENOTDIR: 20, ELOOP: 40, EMFILE: 24 };

try {
  program.action(async (kernel: string | undefined, o: Opts) => {
    process.exitCode = await run(kernel, o);
  });
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
  else if (e instanceof CliError) {
    say(`kexec-bpf: ${e.message}`);
    process.exitCode = e.exitCode;
  } else {
    say(`kexec-bpf: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = ExitCode.INTERNAL;
  }
}
