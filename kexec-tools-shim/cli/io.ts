/** File I/O for the CLIs: inputs are read whole and never modified; outputs are written atomically. */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError, ExitCode } from './exit.ts';

/** Reads a whole input file, turning OS errors into a one-line CliError naming the file. */
export const readInput = (path: string): Uint8Array => {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new CliError(`${path}: cannot read (${code})`, ExitCode.BAD_INPUT, { cause: e });
  }
};

/** Writes through a temporary file in the same directory and renames it over the target. */
export const writeFileAtomic = (path: string, data: Uint8Array | string): void => {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new CliError(`${path}: cannot write (${code})`, ExitCode.BAD_INPUT, { cause: e });
  }
};

/** Refuses an output path that is one of the inputs: inputs are never modified. */
export const checkOutput = (output: string, ...inputs: string[]): void => {
  if (inputs.some((i) => resolve(i) === resolve(output))) {
    throw new CliError(
      `${output}: the output must not be one of the inputs (inputs are never modified)`,
      ExitCode.USAGE,
    );
  }
};
