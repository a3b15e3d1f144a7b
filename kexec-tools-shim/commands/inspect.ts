/**
 * `ukibpf inspect IN [--json]`: the PE view of an image — headers, the section table (name, VA, sizes,
 * file offset, characteristics), trailing data, the Authenticode digest, and each signature with its
 * signer — then what the image carries: EFI zboot or bzImage facts (of the image itself and of a UKI's
 * `.linux`), the UKI's base and profile ranges with their text sections, and the `.bpf` section's
 * programs disassembled. The JSON has a `sections` array in table order. Also the home of the
 * PE/Authenticode error mapping the other image commands share.
 *
 * Only a malformed PE fails the command; a malformed kernel header, UKI or `.bpf` object is shown as an
 * `error` (code, offset, message) in its part of the report, since inspecting broken images is the point.
 */
import type { Command } from 'commander';
import { BPF_SECTION_NAME as BPF_SECTION, progTypeForSection } from '../../bpf/abi/index.ts';
import { disassembleLlvm } from '../../bpf/asm/llvm/index.ts';
import { type BpfFunction, type BpfObject, ElfError, readObject, STT } from '../../bpf/elf/index.ts';
import { slotIndex } from '../../bpf/isa/index.ts';
import { imageDigest, listSignatures } from '../../formats/authenticode/index.ts';
import { decompressMethod } from '../../formats/decompress/index.ts';
import {
  detectKernelImage,
  KernelImageError,
  parseBzImage,
  parseZboot,
  XLOADFLAGS,
  ZBOOT_COMPRESSION_TYPES,
} from '../../formats/kernel/index.ts';
import { MACHINE_NAMES, PeError, type PeImage, peChecksum, readPe, SCN, sectionData } from '../../formats/pe/index.ts';
import {
  cString,
  locateSections,
  readUki,
  type SectionView,
  sectionNameIs,
  UkiError,
  type UkiImage,
  viewData,
} from '../../formats/uki/index.ts';
import { asCliError } from '../cli/format-errors.ts';
import { readInput } from '../cli/io.ts';

/** A format error as a one-line CliError naming the file (bad input); other errors come back unchanged. */
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
export const describePe = (bytes: Uint8Array) => describeImage(readPe(bytes));

const describeImage = (img: PeImage) => {
  const bytes = img.bytes;
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

/** A typed format error as report data; anything else (a bug) is rethrown. */
const formatFailure = (e: unknown) => {
  if (e instanceof KernelImageError || e instanceof UkiError || e instanceof PeError || e instanceof ElfError)
    return { error: { code: e.code, offset: e.offset, message: e.message } };
  throw e;
};

const flagNames = (value: number, table: Readonly<Record<string, number>>): string[] =>
  Object.entries(table)
    .filter(([, bit]) => (value & bit) !== 0)
    .map(([name]) => name);

/** EFI zboot or bzImage facts of a kernel image, `{ kind }` alone for other kinds, null when not a kernel. */
export const describeKernel = (bytes: Uint8Array) => {
  const kind = detectKernelImage(bytes);
  if (kind === 'unknown') return null;
  try {
    if (kind === 'zboot') {
      const z = parseZboot(bytes);
      return {
        kind,
        zboot: {
          compressionType: z.compressionType,
          format: z.format,
          payloadOffset: z.payloadOffset,
          payloadSize: z.payloadSize,
          sizeTrailer: ZBOOT_COMPRESSION_TYPES[z.compressionType].sizeTrailer,
          uncompressedSize: z.uncompressedSize,
          peHeaderOffset: z.peHeaderOffset,
          linuxPeMagic: z.linuxPeMagic,
        },
      };
    }
    if (kind === 'bzImage') {
      const b = parseBzImage(bytes);
      return {
        kind,
        bzImage: {
          protocol: `${b.version >> 8}.${String(b.version & 0xff).padStart(2, '0')}`,
          version: b.version,
          kernelVersion: b.kernelVersion ?? null,
          setupSects: b.setupSectsField,
          protectedModeOffset: b.protectedModeOffset,
          payloadOffset: b.payloadOffset,
          payloadFileOffset: b.payloadFileOffset,
          payloadLength: b.payloadLength,
          payloadFormat: decompressMethod(b.payload) ?? null,
          uncompressedSize: b.uncompressedSize,
          prefAddress: `0x${b.prefAddress.toString(16)}`,
          initSize: b.initSize,
          kernelAlignment: b.kernelAlignment,
          relocatable: b.relocatable,
          xloadflags: b.xloadflags,
          xloadflagNames: flagNames(b.xloadflags, XLOADFLAGS),
          kexec64: b.kexec64,
          handoverOffset: b.handoverOffset,
          efiStub: b.efiStub,
        },
      };
    }
    return { kind };
  } catch (e) {
    return { kind, ...formatFailure(e) };
  }
};

/** Text sections shown shortened: newlines and other controls escaped, cut after SHORT_TEXT characters. */
const TEXT_SECTIONS = ['.cmdline', '.uname', '.osrel', '.profile'] as const;
const SHORT_TEXT = 160;

const shortText = (data: Uint8Array): string => {
  const full = new TextDecoder().decode(cString(data)).trimEnd();
  const escaped = full.replace(/[\x00-\x1f\x7f]/g, (c) =>
    c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return escaped.length > SHORT_TEXT ? `${escaped.slice(0, SHORT_TEXT)}…` : escaped;
};

const textsOf = (pe: PeImage, view: SectionView) =>
  Object.fromEntries(
    TEXT_SECTIONS.flatMap((name) => {
      const data = viewData(pe, view, name);
      return data ? [[name, { size: data.length, text: shortText(data) }]] : [];
    }),
  );

const rangeOf = (uki: UkiImage, range: PeImage['sections']) => ({
  sections: range.map((s) => s.name),
  text: textsOf(uki.pe, locateSections(uki.pe, range)),
});

/** The UKI view (null for an image without `.linux`): ranges, their text sections, the `.linux` kernel. */
export const describeUki = (img: PeImage) => {
  if (!img.sections.some((s) => sectionNameIs(s.rawName, '.linux'))) return null;
  try {
    const uki = readUki(img.bytes);
    const base = locateSections(uki.pe, uki.base);
    const linux = viewData(uki.pe, base, '.linux');
    return {
      base: rangeOf(uki, uki.base),
      profiles: uki.profiles.map((range, index) => ({ index, ...rangeOf(uki, range) })),
      linux: linux ? { size: linux.length, kernel: describeKernel(linux) } : null,
    };
  } catch (e) {
    return formatFailure(e);
  }
};

/** Each instruction as `slot: text` in llvm-objdump's syntax, jump targets named by the section's symbols. */
const disassembly = (obj: BpfObject, f: BpfFunction): string[] => {
  const symbols = obj.symbols
    .filter((s) => s.section === f.section && s.type !== STT.SECTION && s.type !== STT.FILE)
    .map((s) => ({ name: s.name, offset: s.value - f.offset }));
  const text = disassembleLlvm(f.insns, { context: { section: f.section, symbols } });
  const { pcs } = slotIndex(f.insns);
  // Numbered within the ELF section, as llvm-objdump numbers them (programs can share a section).
  const first = f.offset / 8;
  return f.insns.map((_, i) => `${String(first + (pcs[i] ?? 0)).padStart(5)}: ${text[i] ?? ''}`);
};

/** The `.bpf` section read as a BPF ELF object (null when there is none). */
export const describeBpf = (img: PeImage) => {
  const section = img.sections.find((s) => s.name === BPF_SECTION);
  if (!section) return null;
  const where = { sectionIndex: section.index, size: section.virtualSize };
  try {
    const obj = readObject(sectionData(img, section), { file: BPF_SECTION });
    const fn = (f: BpfFunction, program: boolean) => ({
      name: f.name,
      section: f.section,
      program,
      progType: program ? (progTypeForSection(f.section)?.progType ?? null) : null,
      instructions: f.insns.length,
      disassembly: disassembly(obj, f),
    });
    return {
      ...where,
      license: obj.license ?? null,
      maps: obj.maps.map((m) => m.name),
      functions: [...obj.programs.map((f) => fn(f, true)), ...obj.subprograms.map((f) => fn(f, false))],
    };
  } catch (e) {
    return { ...where, ...formatFailure(e) };
  }
};

/** The whole report: the PE view, then the kernel, UKI and `.bpf` views. */
export const inspectImage = (bytes: Uint8Array) => {
  const img = readPe(bytes);
  return { ...describeImage(img), kernel: describeKernel(bytes), uki: describeUki(img), bpf: describeBpf(img) };
};
type Report = ReturnType<typeof inspectImage>;

const errorLine = (what: string, r: object): string[] =>
  'error' in r ? [`${what}: ${(r as { error: { message: string } }).error.message}`] : [];

const kernelLines = (label: string, k: Report['kernel']): string[] => {
  if (k === null) return [];
  if ('zboot' in k && k.zboot) {
    const z = k.zboot;
    return [
      `${label}: EFI zboot, ${z.compressionType} (${z.format}) payload at ${hex(z.payloadOffset)}, ${z.payloadSize} bytes, ` +
        `uncompressed ${z.uncompressedSize} bytes (${z.sizeTrailer ? `${z.sizeTrailer}-byte size trailer` : 'gzip ISIZE'})`,
    ];
  }
  if ('bzImage' in k && k.bzImage) {
    const b = k.bzImage;
    return [
      `${label}: bzImage, boot protocol ${b.protocol}${b.kernelVersion ? `, ${b.kernelVersion}` : ''}`,
      `  setup_sects ${b.setupSects}  payload at ${hex(b.payloadFileOffset)} (payload_offset ${hex(b.payloadOffset)}), ` +
        `${b.payloadLength} bytes ${b.payloadFormat ?? 'unknown format'}, uncompressed ${b.uncompressedSize} bytes`,
      `  pref_address ${b.prefAddress}  init_size ${hex(b.initSize)}  xloadflags ${hex(b.xloadflags)} ` +
        `(${b.xloadflagNames.join(' ') || 'none'})  kexec64 ${b.kexec64 ? 'yes' : 'no'}`,
    ];
  }
  return 'error' in k ? errorLine(`${label} (${k.kind})`, k) : [`${label}: ${k.kind}`];
};

const ukiLines = (u: Report['uki']): string[] => {
  if (u === null) return [];
  if (!('base' in u)) return errorLine('UKI', u);
  const range = (title: string, r: typeof u.base): string[] => [
    `${title}: ${r.sections.join(' ')}`,
    ...Object.entries(r.text).map(([name, t]) => `  ${name.padEnd(9)} ${t.text} (${t.size} bytes)`),
  ];
  return [
    '',
    ...range('UKI base', u.base),
    ...u.profiles.flatMap((p) => range(`profile @${p.index}`, p)),
    ...(u.linux ? kernelLines(`.linux (${u.linux.size} bytes)`, u.linux.kernel) : []),
  ];
};

const bpfLines = (b: Report['bpf']): string[] => {
  if (b === null) return [];
  const head = `.bpf (section ${b.sectionIndex}, ${b.size} bytes)`;
  if (!('functions' in b)) return ['', ...errorLine(head, b)];
  return [
    '',
    `${head}: BPF object, license ${b.license ?? 'none'}, maps ${b.maps.join(' ') || 'none'}`,
    ...b.functions.flatMap((f) => [
      '',
      `${f.name} (${f.program ? `program, SEC("${f.section}")${f.progType ? ` ${f.progType}` : ''}` : 'subprogram'}, ${f.instructions} instructions):`,
      ...f.disassembly,
    ]),
  ];
};

const text = (file: string, d: Report): string => {
  const lines = [
    `${file}: ${d.format} ${d.machine}, subsystem ${d.subsystem}, entry ${hex(d.entryPoint)}`,
    `  SizeOfHeaders ${hex(d.sizeOfHeaders)}  SizeOfImage ${hex(d.sizeOfImage)}  SectionAlignment ${hex(d.sectionAlignment)}  FileAlignment ${hex(d.fileAlignment)}`,
    `  CheckSum ${hex(d.checkSum.stored)} (computed ${hex(d.checkSum.computed)})  Authenticode SHA-256 ${d.authenticodeSha256}`,
    ...kernelLines('kernel', d.kernel).map((l) => `  ${l}`),
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
  lines.push(...ukiLines(d.uki), ...bpfLines(d.bpf));
  return `${lines.join('\n')}\n`;
};

export const register = (program: Command): void => {
  program
    .command('inspect')
    .description(
      'show the PE headers, section table, signatures, zboot/bzImage facts, UKI ranges and .bpf programs of an image',
    )
    .argument('<image>', 'PE image (UKI, stub, EFI zboot or bzImage kernel)')
    .option('--json', 'print JSON (`sections` in table order, `signatures`, `kernel`, `uki`, `bpf`, header fields)')
    .addHelpText(
      'after',
      '\nA signature is "consistent" when its digests and signature check out; trust is `verify-sig`\'s job.\n' +
        "`kernel` is the image's own zboot/bzImage header, `uki.linux.kernel` that of a UKI's .linux; text\n" +
        "sections are shortened to 160 characters; `bpf.functions[].disassembly` is in llvm-objdump's syntax.\n" +
        'A malformed kernel header, UKI or .bpf object is reported as an `error` in its part, not a failure.\n' +
        'Exit codes: 0 ok, 2 usage, 3 bad input (not a well-formed PE; the message names the file offset).\n',
    )
    .action((file: string, opts: { json?: boolean }) => {
      const bytes = readInput(file);
      let d: Report;
      try {
        d = inspectImage(bytes);
      } catch (e) {
        throw asCliError(e, file);
      }
      process.stdout.write(opts.json ? `${JSON.stringify({ file, ...d }, null, 2)}\n` : text(file, d));
    });
};
