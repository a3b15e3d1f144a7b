/**
 * `ukibpf inject --bpf parser.o IN -o OUT [--strip-signature]`: adds (or replaces) the `.bpf` section of
 * a PE image with the bytes of a BPF ELF object, by ukify's procedure. A signed image is refused unless
 * --strip-signature is given: sign after injecting.
 */
import type { Command } from 'commander';
import { BPF_SECTION_NAME as BPF_SECTION } from '../../bpf/abi/index.ts';
import { ElfError, readElf } from '../../bpf/elf/index.ts';
import { findSection, PE_ERROR, PeError, readPe, upsertSection } from '../../formats/pe/index.ts';
import { CliError, ExitCode } from '../cli/exit.ts';
import { asCliError } from '../cli/format-errors.ts';
import { checkOutput, readInput, writeFileAtomic } from '../cli/io.ts';

interface InjectOptions {
  bpf: string;
  output: string;
  stripSignature?: boolean;
  json?: boolean;
}

/** Refuses to write over an input: inputs are never modified. */
const run = (image: string, opts: InjectOptions): void => {
  checkOutput(opts.output, image, opts.bpf);
  const object = readInput(opts.bpf);
  try {
    readElf(object);
  } catch (e) {
    if (e instanceof ElfError)
      throw new CliError(`${opts.bpf}: not a BPF ELF object: ${e.message}`, ExitCode.BAD_INPUT, { cause: e });
    throw e;
  }
  const input = readInput(image);
  let out: Uint8Array;
  let replaced: boolean;
  try {
    replaced = findSection(readPe(input), BPF_SECTION) !== undefined;
    out = upsertSection(input, { name: BPF_SECTION, data: object }, { stripSignatures: opts.stripSignature === true });
  } catch (e) {
    if (e instanceof PeError && e.code === PE_ERROR.SIGNED_IMAGE) {
      throw new CliError(
        `${image}: the image is signed; pass --strip-signature to drop the signatures (and sign again after)`,
        ExitCode.BAD_INPUT,
        { cause: e },
      );
    }
    throw asCliError(e, image);
  }
  writeFileAtomic(opts.output, out);
  const s = findSection(readPe(out), BPF_SECTION)!;
  const summary = {
    input: image,
    output: opts.output,
    bpf: opts.bpf,
    action: replaced ? 'replaced' : 'added',
    section: {
      name: s.name,
      virtualAddress: s.virtualAddress,
      virtualSize: s.virtualSize,
      pointerToRawData: s.pointerToRawData,
      sizeOfRawData: s.sizeOfRawData,
    },
  };
  process.stdout.write(
    opts.json
      ? `${JSON.stringify(summary, null, 2)}\n`
      : `${opts.output}: ${summary.action} ${BPF_SECTION} (${s.virtualSize} bytes) at VA 0x${s.virtualAddress.toString(16)}, file offset 0x${s.pointerToRawData.toString(16)}\n`,
  );
};

export const register = (program: Command): void => {
  program
    .command('inject')
    .description('add or replace the .bpf section of a PE image (UKI, zboot kernel) with a BPF ELF object')
    .argument('<image>', 'input PE image (not modified)')
    .requiredOption('--bpf <parser.o>', 'BPF ELF object to store in .bpf')
    .requiredOption('-o, --output <file>', 'output image (written atomically)')
    .option('--strip-signature', 'remove existing signatures instead of refusing a signed image')
    .option('--json', 'print a JSON summary')
    .addHelpText(
      'after',
      '\nSign the result last (`ukibpf sign`): any change to a signed image breaks its signature.\n' +
        'Exit codes: 0 ok, 2 usage, 3 bad input (not a PE / not a BPF object / signed without --strip-signature).\n',
    )
    .action((image: string, opts: InjectOptions) => run(image, opts));
};
