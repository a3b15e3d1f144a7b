/**
 * Runs `ukibpf` subcommands in-process for tests: registers the given commands on a fresh commander
 * program, captures stdout, and reports the exit code a command set (process.exitCode).
 */
import { Command } from 'commander';
import { vi } from 'vitest';
import { CliError } from '../../kexec-tools-shim/cli/exit.ts';

type Register = (program: Command) => void;

export interface CliRun {
  readonly out: string;
  readonly exitCode: number;
}

/** Runs `ukibpf ...args` with the given commands registered; throws what the command throws. */
export const runCli = async (registers: readonly Register[], args: readonly string[]): Promise<CliRun> => {
  const program = new Command('ukibpf').exitOverride();
  for (const register of registers) register(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  process.exitCode = undefined;
  try {
    await program.parseAsync(['node', 'ukibpf', ...args]);
    return { out, exitCode: Number(process.exitCode ?? 0) };
  } finally {
    process.exitCode = undefined;
    spy.mockRestore();
  }
};

/** A runner for one command: `run(...args)` resolves to what it printed. */
export const commandRunner =
  (register: Register, name: string) =>
  async (...args: string[]): Promise<string> =>
    (await runCli([register], [name, ...args])).out;

/** The CliError a run ends with; fails the test when the run succeeds or throws something else. */
export const cliFailure = async (run: () => Promise<unknown>): Promise<CliError> => {
  try {
    await run();
  } catch (e) {
    if (e instanceof CliError) return e;
    throw e;
  }
  throw new Error('command succeeded');
};
