/** `kexec-bpfd`: the loader daemon (see server.ts and protocol.ts; example unit: kexec-bpfd.service). */
import { Command, CommanderError, Option } from 'commander';
import { CliError, ExitCode } from '../cli/exit.ts';
import { VERSION } from '../cli/version.ts';
import { Daemon } from './server.ts';

const collect = (v: string, prev: string[]): string[] => [...prev, v];
const positive =
  (what: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new CliError(`${what}: not a positive number: ${v}`, ExitCode.USAGE);
    return n;
  };

const program = new Command('kexec-bpfd')
  .description('kexec-bpf loader daemon: one simulated kernel, a JSON-lines protocol on a UNIX socket')
  .version(VERSION)
  .option('--socket <path>', 'the UNIX socket to listen on', '/run/kexec-bpfd.sock')
  .option('--keyring <cert>', 'a trusted certificate for the builtin keyring (repeatable)', collect, [])
  .option('--sig-enforce', 'require a valid signature (CONFIG_KEXEC_SIG_FORCE)')
  .addOption(
    new Option('--timeout <seconds>', 'how long the kernel waits for the loader thread')
      .argParser(positive('--timeout'))
      .default(10),
  )
  .addOption(
    new Option('--max-queue <n>', 'requests waiting behind the running one before EBUSY')
      .argParser(positive('--max-queue'))
      .default(64),
  )
  .exitOverride();

try {
  await program.parseAsync(process.argv);
  const o = program.opts<{
    socket: string;
    keyring: string[];
    sigEnforce?: boolean;
    timeout: number;
    maxQueue: number;
  }>();
  const d = await Daemon.start({
    socket: o.socket,
    keyrings: o.keyring,
    sigEnforce: o.sigEnforce === true,
    timeoutMs: Math.round(o.timeout * 1000),
    maxQueue: Math.floor(o.maxQueue),
    fault: process.env.KEXEC_BPF_FAULT,
  });
  process.stderr.write(`kexec-bpfd: listening on ${o.socket}\n`);
  const stop = (sig: string): void => {
    process.stderr.write(`kexec-bpfd: ${sig}: finishing the running request and stopping\n`);
    d.stop().then(
      () => {
        process.exitCode = ExitCode.OK;
      },
      (e: unknown) => {
        process.stderr.write(`kexec-bpfd: stop failed: ${String(e)}\n`);
        process.exitCode = ExitCode.INTERNAL;
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
} catch (e) {
  if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
  else if (e instanceof CliError) {
    process.stderr.write(`kexec-bpfd: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else {
    const code = (e as NodeJS.ErrnoException).code;
    process.stderr.write(`kexec-bpfd: ${code ? `cannot start: ${code}` : String(e)}\n`);
    process.exitCode = code ? ExitCode.INTERNAL : ExitCode.INTERNAL;
  }
}
