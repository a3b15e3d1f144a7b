/**
 * `ukibpf inspect IN [--json]`: the PE view of an image — headers, the section table (name, VA, sizes,
 * file offset, characteristics), trailing data, the Authenticode digest, and each signature with its
 * signer. The JSON has a `sections` array in table order. Also the home of the PE/Authenticode error
 * mapping the other image commands share.
 */
import type { Command } from 'commander';
import { AuthenticodeError, imageDigest, listSignatures } from '../../formats/authenticode/index.ts';
import { MACHINE_NAMES, PeError, peChecksum, readPe, SCN } from '../../formats/pe/index.ts';
import { CliError, ExitCode } from '../cli/exit.ts';
import { readInput } from '../cli/io.ts';

/** A format error as a one-line CliError naming the file (bad input); other errors come back unchanged. */
export const asCliError = (e: unknown, file: string): unknown =>
  e instanceof PeError || e instanceof AuthenticodeError
    ? new CliError(`${file}: ${e.message}`, ExitCode.BAD_INPUT, { cause: e })
    : e;

const hex = (n: number): string => `0x${n.toString(16)}`;

const FLAG_NAMES: readonly [number, string][] = [
  [SCN.CNT_CODE, 'CODE'],
  [SCN.CNT_INITIALIZED_DATA, 'DATA'],
  [SCN.CNT_UNINITIALIZED_DATA, 'BSS'],
  [SCN.MEM_DISCARDABLE, 'DISCARDABLE'],
  [SCN.MEM_READ, 'R'],
  [SCN.MEM_WRITE, 'W'],
  [SCN.MEM_EXECUTE, 'X'],
];
const flagsOf = (c: number): string[] => FLAG_NAMES.filter(([bit]) => (c & bit) !== 0).map(([, name]) => name);

/** Everything `inspect` reports about the PE part of an image, as plain data. */
export const describePe = (bytes: Uint8Array) => {
  const img = readPe(bytes);
  const { coff, optional } = img;
  return {
    format: optional.format,
    machine: MACHINE_NAMES.get(coff.machine) ?? hex(coff.machine),
    subsystem: optional.subsystem,
    entryPoint: optional.addressOfEntryPoint,
    imageBase: optional.imageBase.toString(),
    sectionAlignment: optional.sectionAlignment,
    fileAlignment: optional.fileAlignment,
    sizeOfHeaders: optional.sizeOfHeaders,
    sizeOfImage: optional.sizeOfImage,
    checkSum: { stored: optional.checkSum, computed: peChecksum(bytes, img.offsets.checkSum) },
    sections: img.sections.map((s) => ({
      index: s.index,
      name: s.name,
      virtualAddress: s.virtualAddress,
      virtualSize: s.virtualSize,
      pointerToRawData: s.pointerToRawData,
      sizeOfRawData: s.sizeOfRawData,
      characteristics: s.characteristics,
      flags: flagsOf(s.characteristics),
    })),
    trailingData: img.trailingData,
    symbolTable: img.symbolTable ?? null,
    certificateTable: img.certificateTable ?? null,
    authenticodeSha256: Buffer.from(imageDigest(img, 'sha256')).toString('hex'),
    signatures: listSignatures(img).map((s) => ({
      index: s.index,
      offset: s.offset,
      sound: s.sound,
      failure: s.failure ?? null,
      digestAlgorithm: s.digestAlgorithm ?? null,
      imageDigest: s.imageDigest ?? null,
      signer: s.signer ?? null,
    })),
  };
};

const text = (file: string, d: ReturnType<typeof describePe>): string => {
  const lines = [
    `${file}: ${d.format} ${d.machine}, subsystem ${d.subsystem}, entry ${hex(d.entryPoint)}`,
    `  SizeOfHeaders ${hex(d.sizeOfHeaders)}  SizeOfImage ${hex(d.sizeOfImage)}  SectionAlignment ${hex(d.sectionAlignment)}  FileAlignment ${hex(d.fileAlignment)}`,
    `  CheckSum ${hex(d.checkSum.stored)} (computed ${hex(d.checkSum.computed)})  Authenticode SHA-256 ${d.authenticodeSha256}`,
    '',
    'Idx Name      VirtAddr   VirtSize   RawOffset  RawSize    Flags',
    ...d.sections.map(
      (s) =>
        `${String(s.index).padStart(3)} ${s.name.padEnd(9)} ${hex(s.virtualAddress).padEnd(10)} ${hex(s.virtualSize).padEnd(10)} ` +
        `${hex(s.pointerToRawData).padEnd(10)} ${hex(s.sizeOfRawData).padEnd(10)} ${hex(s.characteristics)} ${s.flags.join(' ')}`,
    ),
  ];
  if (d.trailingData.size > 0) {
    lines.push(
      '',
      `trailing data: ${d.trailingData.size} bytes at ${hex(d.trailingData.offset)}${d.symbolTable ? ' (COFF symbol table)' : ''}`,
    );
  }
  lines.push('');
  if (d.signatures.length === 0)
    lines.push(d.certificateTable ? 'signatures: none readable' : 'signatures: none (unsigned)');
  for (const s of d.signatures) {
    const signer = s.signer
      ? `${s.signer.subject} (issuer ${s.signer.issuer}, serial ${s.signer.serial})`
      : 'unknown signer';
    const state = s.sound ? 'consistent' : `BROKEN: ${s.failure?.code} ${s.failure?.message ?? ''}`;
    lines.push(`signature ${s.index} at ${hex(s.offset)}: ${s.digestAlgorithm ?? '?'} ${state}`, `  signer: ${signer}`);
  }
  return `${lines.join('\n')}\n`;
};

export const register = (program: Command): void => {
  program
    .command('inspect')
    .description('show the PE headers, section table, trailing data and Authenticode signatures of an image')
    .argument('<image>', 'PE image (UKI, stub, EFI kernel)')
    .option('--json', 'print JSON (a `sections` array in table order, `signatures`, header fields)')
    .addHelpText(
      'after',
      '\nA signature is "consistent" when its digests and signature check out; trust is `verify-sig`\'s job.\n' +
        'Exit codes: 0 ok, 2 usage, 3 bad input (not a well-formed PE; the message names the file offset).\n',
    )
    .action((file: string, opts: { json?: boolean }) => {
      const bytes = readInput(file);
      let d: ReturnType<typeof describePe>;
      try {
        d = describePe(bytes);
      } catch (e) {
        throw asCliError(e, file);
      }
      process.stdout.write(opts.json ? `${JSON.stringify({ file, ...d }, null, 2)}\n` : text(file, d));
    });
};
