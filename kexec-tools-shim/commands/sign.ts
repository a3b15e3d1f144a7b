/**
 * `ukibpf sign --key K --cert C IN -o OUT [--append]`: Authenticode-signs a PE image (SHA-256, RSA or
 * ECDSA key, PEM or DER). By default the signature replaces existing ones (as osslsigncode); --append adds
 * a second WIN_CERTIFICATE (as sbsign). Extra certificates after the first in C are carried as a chain.
 */
import type { Command } from 'commander';
import { listSignatures, loadCertificates, loadPrivateKey, signImage } from '../../formats/authenticode/index.ts';
import { readPe } from '../../formats/pe/index.ts';
import { CliError, ExitCode } from '../cli/exit.ts';
import { asCliError } from '../cli/format-errors.ts';
import { checkOutput, readInput, writeFileAtomic } from '../cli/io.ts';

interface SignCliOptions {
  key: string;
  cert: string;
  output: string;
  append?: boolean;
  json?: boolean;
}

const run = (image: string, opts: SignCliOptions): void => {
  checkOutput(opts.output, image, opts.key, opts.cert);
  let out: Uint8Array;
  let key: ReturnType<typeof loadPrivateKey>;
  let certs: ReturnType<typeof loadCertificates>;
  try {
    key = loadPrivateKey(readInput(opts.key), opts.key);
  } catch (e) {
    throw asCliError(e, opts.key);
  }
  try {
    certs = loadCertificates(readInput(opts.cert), opts.cert);
  } catch (e) {
    throw asCliError(e, opts.cert);
  }
  const [certificate, ...chain] = certs;
  if (!certificate) throw new CliError(`${opts.cert}: no certificate`, ExitCode.BAD_INPUT);
  try {
    out = signImage(readInput(image), { key, certificate, chain }, { mode: opts.append ? 'append' : 'replace' });
  } catch (e) {
    throw asCliError(e, image);
  }
  writeFileAtomic(opts.output, out);
  const signatures = listSignatures(readPe(out));
  const summary = {
    input: image,
    output: opts.output,
    signer: { subject: certificate.subject, issuer: certificate.issuer, serial: certificate.serial },
    signatures: signatures.length,
  };
  process.stdout.write(
    opts.json
      ? `${JSON.stringify(summary, null, 2)}\n`
      : `${opts.output}: signed by ${certificate.subject} (signature ${signatures.length - 1} of ${signatures.length})\n`,
  );
};

export const register = (program: Command): void => {
  program
    .command('sign')
    .description('Authenticode-sign a PE image (PKCS#7, SHA-256; RSA or ECDSA; PEM or DER key and certificate)')
    .argument('<image>', 'input PE image (not modified)')
    .requiredOption('--key <file>', 'private key: PEM (PKCS#8, PKCS#1, SEC1) or DER')
    .requiredOption('--cert <file>', 'signer certificate, PEM or DER; further PEM certificates are included as a chain')
    .requiredOption('-o, --output <file>', 'signed image (written atomically)')
    .option('--append', 'keep existing signatures and add this one as another WIN_CERTIFICATE (sbsign style)')
    .option('--json', 'print a JSON summary')
    .addHelpText(
      'after',
      '\nThe Linux kernel checks only the first signature; firmware (EDK2) accepts any.\n' +
        'Exit codes: 0 ok, 2 usage, 3 bad input (image, key or certificate; key and certificate must match).\n',
    )
    .action((image: string, opts: SignCliOptions) => run(image, opts));
};
