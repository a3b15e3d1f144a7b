/**
 * `ukibpf build-addon`: a UKI addon (`*.addon.efi`) as `ukify build` makes one without --linux: the addon
 * stub (addonx64.efi.stub) or the UKI stub, with `.cmdline`, `.initrd`, `.ucode`, `.dtb` and `.uname`, and
 * ukify's addon SBAT. The result is read back with the stub's addon rules before it is written.
 */
import type { Command } from 'commander';
import { buildUki, readAddon } from '../../formats/uki/index.ts';
import { CliError, ExitCode } from '../cli/exit.ts';
import { checkOutput, readInput, writeFileAtomic } from '../cli/io.ts';
import { asBuildError, maybeSign, parseSectionOption, type SignOptions, sectionSummary, textOrFile } from './build.ts';

interface AddonCliOptions extends SignOptions {
  stub: string;
  cmdline?: string;
  initrd?: string[];
  ucode?: string;
  devicetree?: string;
  uname?: string;
  section?: string[];
  sbat?: string[];
  output: string;
  json?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const run = (opts: AddonCliOptions): void => {
  const sections = (opts.section ?? []).map(parseSectionOption);
  const cmdline = opts.cmdline === undefined ? undefined : textOrFile(opts.cmdline);
  checkOutput(
    opts.output,
    ...[opts.stub, ...(opts.initrd ?? []), opts.ucode, opts.devicetree, cmdline?.source, opts.signKey, opts.signCert]
      .concat(sections.map((s) => s.file))
      .filter((f): f is string => f !== undefined),
  );
  if (!opts.cmdline && !opts.initrd?.length && !opts.ucode && !opts.devicetree) {
    throw new CliError(
      'an addon needs at least one of --cmdline, --initrd, --ucode, --devicetree (the stub ignores it otherwise)',
      ExitCode.USAGE,
    );
  }
  let built: Uint8Array;
  try {
    built = buildUki({
      stub: readInput(opts.stub),
      cmdline: cmdline?.data,
      initrds: (opts.initrd ?? []).map(readInput),
      microcode: opts.ucode === undefined ? undefined : readInput(opts.ucode),
      devicetree: opts.devicetree === undefined ? undefined : readInput(opts.devicetree),
      uname: opts.uname === undefined ? undefined : new TextEncoder().encode(opts.uname),
      sections: sections.map((s) => ({ name: s.name, data: readInput(s.file) })),
      sbat: (opts.sbat ?? []).map((s) => new TextDecoder().decode(textOrFile(s).data)),
    });
    // The stub's checks: a payload section, and no .linux (a UKI stub used as addon stub has none).
    readAddon(built);
  } catch (e) {
    throw asBuildError(e, opts.stub);
  }
  const { bytes, signer } = maybeSign(built, opts);
  writeFileAtomic(opts.output, bytes);
  const summary = {
    output: opts.output,
    kind: 'addon',
    size: bytes.length,
    signedBy: signer ?? null,
    sections: sectionSummary(bytes),
  };
  process.stdout.write(
    opts.json
      ? `${JSON.stringify(summary, null, 2)}\n`
      : `${opts.output}: addon, ${bytes.length} bytes, sections ${summary.sections.map((s) => s.name).join(' ')}` +
          `${signer ? `, signed by ${signer}` : ''}\n`,
  );
};

export const register = (program: Command): void => {
  program
    .command('build-addon')
    .description('build a UKI addon (*.addon.efi) carrying a command line, initrd, microcode or devicetree')
    .requiredOption('--stub <file>', 'addon stub (addonx64.efi.stub) or the UKI stub; not modified')
    .option('--cmdline <text|@file>', 'command line appended by the stub (.cmdline)')
    .option('--initrd <file>', 'initrd appended after the UKI initrds (.initrd); repeatable, joined', collect)
    .option('--ucode <file>', 'microcode cpio placed before every initrd (.ucode)')
    .option('--devicetree <file>', 'devicetree blob applied after the UKI one (.dtb)')
    .option('--uname <version>', 'only apply to UKIs whose .uname matches (.uname)')
    .option('--section <name:file>', 'an extra section; repeatable', collect)
    .option('--sbat <text|@file>', 'SBAT entries instead of the ukify addon default; repeatable', collect)
    .option('--sign-key <file>', 'sign the addon (Authenticode, SHA-256) with this key')
    .option('--sign-cert <file>', 'certificate for --sign-key')
    .requiredOption('-o, --output <file>', 'output addon (written atomically)')
    .option('--json', 'print a JSON summary (sections in table order)')
    .addHelpText(
      'after',
      '\nUnder Secure Boot the stub loads only addons whose signature shim or the firmware accepts.\n' +
        'Exit codes: 0 ok, 2 usage, 3 bad input.\n',
    )
    .action((opts: AddonCliOptions) => run(opts));
};
