/**
 * `ukibpf verify-sig --cert C [--cert C2 ...] IN [--json] [--any]`: checks an image's Authenticode
 * signature against trusted certificates. Default: the kernel's rule (the first signature must check out
 * and chain to a trusted certificate); --any: EDK2's rule (any signature will do).
 */
import type { Command } from 'commander';
import { type Certificate, loadCertificates, verifyImage } from '../../formats/authenticode/index.ts';
import { ExitCode } from '../cli/exit.ts';
import { asCliError } from '../cli/format-errors.ts';
import { readInput } from '../cli/io.ts';

interface VerifyCliOptions {
  cert: string[];
  any?: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

const run = (image: string, opts: VerifyCliOptions): void => {
  const trusted: Certificate[] = [];
  for (const file of opts.cert) {
    try {
      trusted.push(...loadCertificates(readInput(file), file));
    } catch (e) {
      throw asCliError(e, file);
    }
  }
  const bytes = readInput(image);
  let result: ReturnType<typeof verifyImage>;
  try {
    result = verifyImage(bytes, trusted, { mode: opts.any ? 'edk2' : 'kernel' });
  } catch (e) {
    throw asCliError(e, image);
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ file: image, ...result }, null, 2)}\n`);
  } else {
    const lines: string[] = [];
    for (const s of result.signatures) {
      const who = s.signer ? ` by ${s.signer.subject}` : '';
      lines.push(
        s.ok
          ? `signature ${s.index}: OK, signed${who}, trusted via ${s.trustedBy?.subject}`
          : `signature ${s.index}: REJECTED${who}: ${s.failure?.code}: ${s.failure?.message}`,
      );
    }
    if (result.failure) lines.push(`${result.failure.code}: ${result.failure.message}`);
    lines.push(`${image}: ${result.ok ? 'verified' : 'REJECTED'} (${result.mode} rules)`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  process.exitCode = result.ok ? ExitCode.OK : ExitCode.REJECTED;
};

export const register = (program: Command): void => {
  program
    .command('verify-sig')
    .description("verify a PE image's Authenticode signature against trusted certificates")
    .argument('<image>', 'signed PE image')
    .requiredOption('--cert <file>', 'trusted certificate (PEM, may hold several, or DER); repeatable', collect, [])
    .option('--any', 'EDK2 rules: accept when any signature is trusted (default: kernel rules, the first one)')
    .option('--json', 'print the full result as JSON')
    .addHelpText(
      'after',
      '\nA signature is trusted when its signer is one of the given certificates or is issued by one\n' +
        '(directly or through certificates carried in the signature); validity dates are ignored, as the\n' +
        'kernel and EDK2 do.\nExit codes: 0 verified, 1 rejected, 2 usage, 3 bad input (not a PE, unreadable certificate).\n',
    )
    .action((image: string, opts: VerifyCliOptions) => run(image, opts));
};
