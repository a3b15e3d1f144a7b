/**
 * `ukibpf`: the toolchain CLI (asm, disasm, objdump, and later compile, verify, run, build, sign, ...).
 */
import { Command, CommanderError } from 'commander';
import { CliError, ExitCode } from './cli/exit.ts';
import { VERSION } from './cli/version.ts';
import { COMMANDS } from './commands/index.ts';

const program = new Command('ukibpf')
  .description('eBPF toolchain for kexec of signed UKIs and EFI zboot kernels with a .bpf parser section')
  .version(VERSION)
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)');
for (const register of COMMANDS) register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version end with code 0; usage errors have been printed by commander.
    process.exitCode = e.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
  } else if (e instanceof CliError) {
    process.stderr.write(`ukibpf: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else {
    process.stderr.write(`ukibpf: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = ExitCode.INTERNAL;
  }
}
