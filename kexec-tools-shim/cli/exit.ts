/** Exit codes shared by every CLI of the project (documented in the README). */
export const ExitCode = {
  OK: 0,
  /** The operation ran and its answer is "no": a verifier rejection, a bad signature, a failed check. */
  REJECTED: 1,
  /** Bad command line. */
  USAGE: 2,
  /** An input could not be read or parsed (the message names the file and offset). */
  BAD_INPUT: 3,
  /** A bug or an environment failure (missing tool, no permission). */
  INTERNAL: 4,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that ends a command with a given exit code and a one-line message. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: ExitCodeValue;
  constructor(message: string, exitCode: ExitCodeValue = ExitCode.BAD_INPUT, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}
