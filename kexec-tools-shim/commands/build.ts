/**
 * `ukibpf build`: a UKI from a systemd-stub, a kernel and the usual parts, laid out as `ukify build` does
 * (formats/uki/build.ts), optionally with a BPF parser object in `.bpf`, profiles, and an Authenticode
 * signature. Inputs are never modified; the output is written atomically.
 */
import type { Command } from 'commander';
import { BPF_SECTION_NAME as BPF_SECTION } from '../../bpf/abi/index.ts';
import { ElfError, readElf } from '../../bpf/elf/index.ts';
import { AuthenticodeError, loadCertificates, loadPrivateKey, signImage } from '../../formats/authenticode/index.ts';
import { PeError, readPe } from '../../formats/pe/index.ts';
import {
  buildUki,
  describeRanges,
  type ExtraSection,
  profileCount,
  profileView,
  readUki,
  type UkiBuildInput,
  UkiError,
} from '../../formats/uki/index.ts';
import { CliError, ExitCode } from '../cli/exit.ts';
import { checkOutput, readInput, writeFileAtomic } from '../cli/io.ts';

/** Maps the format layer's typed errors to a one-line CLI error naming the file. */
export const asBuildError = (e: unknown, file: string): unknown =>
  e instanceof UkiError || e instanceof PeError || e instanceof AuthenticodeError
    ? new CliError(`${file}: ${e.message}`, ExitCode.BAD_INPUT, { cause: e })
    : e;

/** ukify's TEXT|@PATH convention: `@` reads the file, anything else is the text itself. */
export const textOrFile = (value: string): { data: Uint8Array; source: string | undefined } =>
  value.startsWith('@')
    ? { data: readInput(value.slice(1)), source: value.slice(1) }
    : { data: new TextEncoder().encode(value), source: undefined };

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `--section NAME:FILE` (ukify also accepts NAME:@FILE and NAME:TEXT; @ reads a file, a bare value is a file here). */
export const parseSectionOption = (spec: string): { name: string; file: string } => {
  const colon = spec.indexOf(':');
  if (colon <= 0 || colon === spec.length - 1) {
    throw new CliError(`--section ${spec}: expected NAME:FILE`, ExitCode.USAGE);
  }
  const name = spec.slice(0, colon);
  const file = spec.slice(colon + 1).replace(/^@/, '');
  if (new TextEncoder().encode(name).length > 8) {
    throw new CliError(`--section ${spec}: section names are at most 8 bytes in a PE image`, ExitCode.USAGE);
  }
  return { name, file };
};

export interface SignOptions {
  signKey?: string;
  signCert?: string;
}

/** Signs `image` when both --sign-key and --sign-cert are given (one without the other is a usage error). */
export const maybeSign = (image: Uint8Array, opts: SignOptions): { bytes: Uint8Array; signer: string | undefined } => {
  if (!opts.signKey && !opts.signCert) return { bytes: image, signer: undefined };
  if (!opts.signKey || !opts.signCert) {
    throw new CliError('--sign-key and --sign-cert go together', ExitCode.USAGE);
  }
  let key: ReturnType<typeof loadPrivateKey>;
  let certs: ReturnType<typeof loadCertificates>;
  try {
    key = loadPrivateKey(readInput(opts.signKey), opts.signKey);
  } catch (e) {
    throw asBuildError(e, opts.signKey);
  }
  try {
    certs = loadCertificates(readInput(opts.signCert), opts.signCert);
  } catch (e) {
    throw asBuildError(e, opts.signCert);
  }
  const [certificate, ...chain] = certs;
  if (!certificate) throw new CliError(`${opts.signCert}: no certificate`, ExitCode.BAD_INPUT);
  try {
    return { bytes: signImage(image, { key, certificate, chain }, { mode: 'replace' }), signer: certificate.subject };
  } catch (e) {
    throw asBuildError(e, opts.signKey);
  }
};

/** The section table of a built image, for the summary. */
export const sectionSummary = (bytes: Uint8Array) =>
  readPe(bytes).sections.map((s) => ({
    name: s.name,
    virtualAddress: s.virtualAddress,
    virtualSize: s.virtualSize,
    pointerToRawData: s.pointerToRawData,
    sizeOfRawData: s.sizeOfRawData,
  }));

interface BuildCliOptions extends SignOptions {
  stub: string;
  linux?: string;
  initrd?: string[];
  cmdline?: string;
  osRelease?: string;
  uname?: string;
  devicetree?: string;
  splash?: string;
  pcrpkey?: string;
  microcode?: string;
  bpf?: string;
  profile?: string;
  joinProfile?: string[];
  section?: string[];
  sbat?: string[];
  output: string;
  json?: boolean;
}

const readBpf = (file: string): Uint8Array => {
  const object = readInput(file);
  try {
    readElf(object);
  } catch (e) {
    if (e instanceof ElfError) {
      throw new CliError(`${file}: not a BPF ELF object: ${e.message}`, ExitCode.BAD_INPUT, { cause: e });
    }
    throw e;
  }
  return object;
};

const run = (opts: BuildCliOptions): void => {
  const sections = (opts.section ?? []).map(parseSectionOption);
  const text = (v: string | undefined) => (v === undefined ? undefined : textOrFile(v));
  const cmdline = text(opts.cmdline);
  const osRelease = text(opts.osRelease);
  const profile = text(opts.profile);
  const inputs = [
    opts.stub,
    opts.linux,
    ...(opts.initrd ?? []),
    opts.devicetree,
    opts.splash,
    opts.pcrpkey,
    opts.microcode,
    opts.bpf,
    ...(opts.joinProfile ?? []),
    ...sections.map((s) => s.file),
    cmdline?.source,
    osRelease?.source,
    profile?.source,
    opts.signKey,
    opts.signCert,
  ].filter((f): f is string => f !== undefined);
  checkOutput(opts.output, ...inputs);
  if (!opts.linux && !opts.profile) {
    throw new CliError('--linux is required (only a profile PE, built with --profile, has no kernel)', ExitCode.USAGE);
  }
  const optional = (f: string | undefined) => (f === undefined ? undefined : readInput(f));
  const extra: ExtraSection[] = sections.map((s) => ({ name: s.name, data: readInput(s.file) }));
  if (opts.bpf) extra.push({ name: BPF_SECTION, data: readBpf(opts.bpf) });
  const input: UkiBuildInput = {
    stub: readInput(opts.stub),
    linux: optional(opts.linux),
    initrds: (opts.initrd ?? []).map(readInput),
    cmdline: cmdline?.data,
    osRelease: osRelease?.data,
    uname: opts.uname === undefined ? undefined : new TextEncoder().encode(opts.uname),
    devicetree: optional(opts.devicetree),
    splash: optional(opts.splash),
    pcrpkey: optional(opts.pcrpkey),
    microcode: optional(opts.microcode),
    sections: extra,
    profile: profile?.data,
    joinProfiles: (opts.joinProfile ?? []).map(readInput),
    sbat: (opts.sbat ?? []).map((s) => new TextDecoder().decode(textOrFile(s).data)),
  };
  let built: Uint8Array;
  try {
    built = buildUki(input);
  } catch (e) {
    throw asBuildError(e, opts.stub);
  }
  // A UKI must come out as one the stub boots in every profile; a profile PE just has to read back.
  let ranges: ReturnType<typeof describeRanges> | undefined;
  if (opts.linux) {
    const uki = readUki(built);
    for (let p = 0; p < profileCount(uki); p++) profileView(uki, p);
    ranges = describeRanges(uki);
  }
  const { bytes, signer } = maybeSign(built, opts);
  writeFileAtomic(opts.output, bytes);
  const summary = {
    output: opts.output,
    kind: opts.linux ? 'uki' : 'profile',
    size: bytes.length,
    signedBy: signer ?? null,
    sections: sectionSummary(bytes),
    ...(ranges ? { base: ranges.base, profiles: ranges.profiles } : {}),
  };
  process.stdout.write(
    opts.json
      ? `${JSON.stringify(summary, null, 2)}\n`
      : `${opts.output}: ${summary.kind}, ${bytes.length} bytes, sections ${summary.sections.map((s) => s.name).join(' ')}` +
          `${signer ? `, signed by ${signer}` : ''}\n`,
  );
};

export const register = (program: Command): void => {
  program
    .command('build')
    .description('build a UKI from a systemd-stub and a kernel, laid out as `ukify build` does')
    .requiredOption('--stub <file>', 'systemd-stub PE (linuxx64.efi.stub); not modified')
    .option('--linux <file>', 'kernel image (.linux); required unless building a profile PE')
    .option('--initrd <file>', 'initrd (.initrd); repeat to join several, each padded to 4 bytes', collect)
    .option('--cmdline <text|@file>', 'kernel command line (.cmdline)')
    .option('--os-release <text|@file>', 'os-release (.osrel)')
    .option('--uname <version>', 'kernel version (.uname); default: read from the bzImage header')
    .option('--devicetree <file>', 'devicetree blob (.dtb)')
    .option('--splash <file>', 'BMP splash image (.splash)')
    .option('--pcrpkey <file>', 'PEM public key for PCR signatures (.pcrpkey)')
    .option('--microcode <file>', 'microcode cpio (.ucode)')
    .option('--bpf <parser.o>', 'BPF parser object, stored in .bpf (checked to be a BPF ELF object)')
    .option('--section <name:file>', 'an extra section; repeatable', collect)
    .option('--profile <text|@file>', 'profile metadata (.profile); without --linux builds a profile PE')
    .option('--join-profile <file>', 'a profile PE to append as the next profile (@1, @2, …); repeatable', collect)
    .option('--sbat <text|@file>', 'SBAT entries to merge into .sbat instead of the UKI default; repeatable', collect)
    .option('--sign-key <file>', 'sign the result (Authenticode, SHA-256) with this key (PEM or DER)')
    .option('--sign-cert <file>', 'certificate for --sign-key (PEM or DER; further PEM certificates form a chain)')
    .requiredOption('-o, --output <file>', 'output image (written atomically)')
    .option('--json', 'print a JSON summary (sections in table order)')
    .addHelpText(
      'after',
      '\nSection order: .osrel .cmdline .dtb .uname .splash .pcrpkey .initrd .ucode, --section/--bpf extras, .linux;\n' +
        "the stub's .sbat is rewritten with the merged SBAT (moved to the end when it no longer fits in place).\n" +
        'Exit codes: 0 ok, 2 usage, 3 bad input (unreadable file, not a PE, not a BPF object, bad key).\n',
    )
    .action((opts: BuildCliOptions) => run(opts));
};
