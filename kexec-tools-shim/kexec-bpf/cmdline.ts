/** The command line for the new kernel, as kexec-tools builds it from its options. */
import { readFileSync } from 'node:fs';
import { CliError, ExitCode } from '../cli/exit.ts';

/** Where `--reuse-cmdline` reads the running kernel's command line; tests point KEXEC_BPF_PROC_CMDLINE elsewhere. */
export const procCmdlinePath = (): string => process.env.KEXEC_BPF_PROC_CMDLINE ?? '/proc/cmdline';

/** /proc/cmdline without BOOT_IMAGE= (and without crashkernel= for a panic kernel), as kexec-tools strips them. */
export const reusedCmdline = (panic: boolean, path = procCmdlinePath()): string => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`Unable to read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'EIO'}`, ExitCode.BAD_INPUT);
  }
  const drop = panic ? ['BOOT_IMAGE=', 'crashkernel='] : ['BOOT_IMAGE='];
  return text
    .replace(/\0/g, ' ')
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '' && !drop.some((d) => w.startsWith(d)))
    .join(' ');
};

/** `--command-line` replaces, `--reuse-cmdline` supplies the base, `--append` adds at the end. */
export const buildCmdline = (o: {
  commandLine?: string | undefined;
  reuse: boolean;
  append?: string | undefined;
  panic: boolean;
}): string | undefined => {
  const base = o.commandLine ?? (o.reuse ? reusedCmdline(o.panic) : undefined);
  const parts = [base, o.append].filter((p): p is string => p !== undefined && p !== '');
  return parts.length === 0 ? undefined : parts.join(' ');
};
