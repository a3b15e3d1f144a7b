/** Turns the image-format layers' typed errors into one-line CLI errors naming the file. */
import { AuthenticodeError } from '../../formats/authenticode/index.ts';
import { PeError } from '../../formats/pe/index.ts';
import { CliError, ExitCode } from './exit.ts';

export const asCliError = (e: unknown, file: string): unknown =>
  e instanceof PeError || e instanceof AuthenticodeError
    ? new CliError(`${file}: ${e.message}`, ExitCode.BAD_INPUT, { cause: e })
    : e;
