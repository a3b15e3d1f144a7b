/**
 * Building UKIs and addons the way ukify (systemd v258 `ukify build`) lays them out, on top of the PE writer.
 *
 * Section order ukify produces: [`.profile` first when building a profile PE (a --profile and no joins)],
 * `.osrel .cmdline .dtb .dtbauto* .hwids .uname .splash .pcrpkey .initrd .efifw* .ucode`, the extra
 * `--section`s (and `.bpf`), `.linux`, `.sbat` (the stub's own, rewritten in place with the merged SBAT;
 * none for profile PEs), the base `.profile` when joining profiles, then every joined profile PE's
 * `.profile` and the sections ukify imports from it, in its table order.
 *
 * Like ukify: a COFF symbol table at the very end of the stub (old stubs, e.g. Debian's systemd 252) is
 * dropped first; several initrds are joined each zero-padded to 4 bytes; `.linux` is CODE|READ, everything
 * else INITIALIZED_DATA|READ. Differences: ukify sets `.linux`'s VirtualSize to the kernel's SizeOfImage
 * (disputed upstream, see formats.md §1.8); here VirtualSize is the data length. `.pcrsig` (systemd-measure)
 * is not computed; pass one with `sections` if needed.
 */
import { PeError, readPe, SCN, upsertSection, writeChecksum } from '../pe/index.ts';
import { COFF, SECTION } from '../pe/layout.ts';
import { UKI_ERROR, UkiError } from './errors.ts';
import { sectionNameIs } from './model.ts';
import type { UkiSectionName } from './sections.ts';

const SBAT_HEADER = 'sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md';
/** ukify's default SBAT entries for a UKI and for an addon. */
export const UKI_SBAT = `${SBAT_HEADER}\nuki,1,UKI,uki,1,https://uapi-group.org/specifications/specs/unified_kernel_image/\n`;
export const ADDON_SBAT = `${SBAT_HEADER}\nuki-addon,1,UKI Addon,addon,1,https://www.freedesktop.org/software/systemd/man/latest/systemd-stub.html\n`;

/** Sections ukify copies from a joined profile PE. */
export const PROFILE_IMPORTS: readonly UkiSectionName[] = [
  '.linux',
  '.osrel',
  '.cmdline',
  '.initrd',
  '.efifw',
  '.ucode',
  '.splash',
  '.dtb',
  '.uname',
  '.sbat',
  '.profile',
];

export interface ExtraSection {
  readonly name: string;
  readonly data: Uint8Array;
}

export interface UkiBuildInput {
  /** The systemd-stub (or addon stub) PE; not modified. */
  readonly stub: Uint8Array;
  /** Omitted for addons and profile PEs. */
  readonly linux?: Uint8Array;
  readonly initrds?: readonly Uint8Array[];
  readonly cmdline?: Uint8Array;
  readonly osRelease?: Uint8Array;
  readonly devicetree?: Uint8Array;
  readonly devicetreeAuto?: readonly Uint8Array[];
  readonly hwids?: Uint8Array;
  /** Default for a UKI: scraped from the kernel's bzImage version string, as ukify does. */
  readonly uname?: Uint8Array;
  readonly splash?: Uint8Array;
  readonly pcrpkey?: Uint8Array;
  readonly efifw?: readonly Uint8Array[];
  readonly microcode?: Uint8Array;
  /** `--section NAME:FILE` extras, in order (a `.bpf` parser object goes here too). */
  readonly sections?: readonly ExtraSection[];
  readonly profile?: Uint8Array;
  /** Profile PEs (built with `profile` and no linux) to append as profiles @1, @2, … */
  readonly joinProfiles?: readonly Uint8Array[];
  /** SBAT texts to merge; default ukify's UKI_SBAT or ADDON_SBAT. */
  readonly sbat?: readonly string[];
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** ukify's join_initrds: one initrd as is, several each zero-padded to a multiple of 4. */
export const joinInitrds = (initrds: readonly Uint8Array[]): Uint8Array | undefined => {
  if (initrds.length === 0) return undefined;
  if (initrds.length === 1) return initrds[0];
  const total = initrds.reduce((n, i) => n + ((i.length + 3) & ~3), 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const i of initrds) {
    out.set(i, at);
    at += (i.length + 3) & ~3;
  }
  return out;
};

/** The `.sbat` text of a PE (raw data, trailing NULs dropped), when it has a valid one. */
const sbatOf = (pe: Uint8Array): string[] | undefined => {
  let img: ReturnType<typeof readPe>;
  try {
    img = readPe(pe);
  } catch {
    return undefined; // ukify: "not a valid PE file, not extracting SBAT section"
  }
  const s = img.sections.find((x) => sectionNameIs(x.rawName, '.sbat'));
  if (!s) return undefined;
  let raw = img.bytes.subarray(s.pointerToRawData, s.pointerToRawData + s.sizeOfRawData);
  let end = raw.length;
  while (end > 0 && raw[end - 1] === 0) end--;
  raw = raw.subarray(0, end);
  const lines = new TextDecoder().decode(raw).split(/\r\n|\n|\r/);
  if (lines.at(-1) === '') lines.pop();
  return lines[0]?.startsWith('sbat,') ? lines.slice(1) : undefined;
};

/** ukify's merge_sbat: one `sbat,1,…` header line, then every input's entries; ends with "\n\0". */
export const mergeSbat = (pes: readonly Uint8Array[], texts: readonly string[]): Uint8Array => {
  const entries: string[] = [];
  for (const pe of pes) entries.push(...(sbatOf(pe) ?? []));
  for (const t of texts) {
    const lines = t.split(/\r\n|\n|\r/);
    if (lines.at(-1) === '') lines.pop();
    if (lines[0]?.startsWith('sbat,')) entries.push(...lines.slice(1));
  }
  return text(`${SBAT_HEADER}\n${entries.join('\n')}\n\0`);
};

/** ukify's uname scrape for an x86 bzImage: the first word of the setup header's kernel_version string. */
export const scrapeUname = (linux: Uint8Array): string | undefined => {
  if (linux.length < 0x210 || linux[0x202] !== 0x48 || linux[0x203] !== 0x64) return undefined; // "HdrS"
  const ptr = linux[0x20e]! | (linux[0x20f]! << 8);
  if (ptr === 0) return undefined;
  const start = ptr + 0x200;
  let end = start;
  while (end < linux.length && end - start < 256 && linux[end] !== 0) end++;
  const word = String.fromCharCode(...linux.subarray(start, end)).split(' ')[0] ?? '';
  return /^[0-9][A-Za-z0-9._+~-]*$/.test(word) ? word : undefined;
};

/** Drops a COFF symbol table that ends the file (ukify does this for old stubs). */
export const stripTrailingSymbolTable = (bytes: Uint8Array): Uint8Array => {
  const img = readPe(bytes);
  const sym = img.symbolTable;
  if (!sym || img.certificateTable || sym.offset + sym.size !== bytes.length) return bytes;
  const out = bytes.slice(0, sym.offset);
  const v = new DataView(out.buffer);
  const coff = img.offsets.coffHeader;
  v.setUint32(coff + COFF.POINTER_TO_SYMBOL_TABLE, 0, true);
  v.setUint32(coff + COFF.NUMBER_OF_SYMBOLS, 0, true);
  v.setUint16(coff + COFF.CHARACTERISTICS, img.coff.characteristics | 0x0008, true); // LOCAL_SYMS_STRIPPED
  writeChecksum(out, img.offsets.checkSum);
  readPe(out);
  return out;
};

const characteristicsOf = (name: string): number =>
  name === '.linux' ? SCN.CNT_CODE | SCN.MEM_READ : SCN.CNT_INITIALIZED_DATA | SCN.MEM_READ;

/**
 * Appends a section at the end of the table even when one of that name exists (profiles repeat names).
 * The PE writer replaces same-named sections, so a unique placeholder name is written and then renamed.
 */
export const appendSection = (bytes: Uint8Array, name: string, data: Uint8Array): Uint8Array => {
  const encoded = text(name);
  if (encoded.length === 0 || encoded.length > SECTION.NAME_SIZE || encoded.includes(0)) {
    throw new UkiError(UKI_ERROR.BAD_INPUT, 0, `section name "${name}" must be 1 to 8 bytes without NUL`);
  }
  const img = readPe(bytes);
  const characteristics = characteristicsOf(name);
  if (!img.sections.some((s) => s.name === name)) return upsertSection(bytes, { name, data, characteristics });
  const used = new Set(img.sections.map((s) => s.name));
  let n = 0;
  while (used.has(`.~${n}`)) n++;
  const out = upsertSection(bytes, { name: `.~${n}`, data, characteristics });
  const after = readPe(out);
  const added = after.sections.at(-1)!;
  const raw = new Uint8Array(SECTION.NAME_SIZE);
  raw.set(encoded);
  out.set(raw, added.headerOffset + SECTION.NAME);
  writeChecksum(out, after.offsets.checkSum);
  return out;
};

/** Rewrites the first section `name` in place with `data` (ukify's swap); it must fit its raw size. */
const replaceInPlace = (bytes: Uint8Array, name: string, data: Uint8Array): Uint8Array => {
  const img = readPe(bytes);
  const s = img.sections.find((x) => sectionNameIs(x.rawName, name));
  if (!s) return appendSection(bytes, name, data);
  if (data.length > s.sizeOfRawData) {
    throw new UkiError(
      UKI_ERROR.NO_ROOM,
      s.headerOffset,
      `${data.length} bytes of ${name} do not fit the stub's ${name} section (${s.sizeOfRawData} bytes of raw data)`,
    );
  }
  return upsertSection(bytes, { name, data, characteristics: s.characteristics });
};

const withPeErrors = <T>(what: string, f: () => T): T => {
  try {
    return f();
  } catch (e) {
    if (e instanceof PeError) throw new UkiError(UKI_ERROR.NOT_PE, e.offset, `${what}: ${e.message}`, { cause: e });
    throw e;
  }
};

/**
 * The sections a joined profile PE contributes: its one `.profile` and the importable sections after it.
 * ukify demands `.profile` be the first importable section; a profile PE built on a real stub carries the
 * stub's own `.sbat` before it, so sections before `.profile` are taken as the stub's and left out.
 */
const profileImports = (pe: Uint8Array, which: number): ExtraSection[] => {
  const img = withPeErrors(`profile PE #${which + 1}`, () => readPe(pe));
  const profiles = img.sections.filter((s) => s.name === '.profile');
  if (profiles.length !== 1) {
    throw new UkiError(
      UKI_ERROR.BAD_INPUT,
      img.offsets.sectionTable,
      `profile PE #${which + 1} must have exactly one .profile section (it has ${profiles.length})`,
    );
  }
  return img.sections
    .slice(profiles[0]!.index)
    .filter((s) => (PROFILE_IMPORTS as readonly string[]).includes(s.name))
    .map((s) => ({
      name: s.name,
      data: img.bytes.slice(s.pointerToRawData, s.pointerToRawData + Math.min(s.virtualSize, s.sizeOfRawData)),
    }));
};

/** The sections ukify adds, in order (without the in-place `.sbat`). */
export const plannedSections = (input: UkiBuildInput): { before: ExtraSection[]; profileLast: boolean } => {
  const joining = (input.joinProfiles?.length ?? 0) > 0;
  const out: ExtraSection[] = [];
  const add = (name: string, data: Uint8Array | undefined): void => {
    if (data && data.length > 0) out.push({ name, data });
  };
  if (input.profile && !joining) add('.profile', input.profile);
  const uname = input.uname ?? (input.linux ? ((u) => (u ? text(u) : undefined))(scrapeUname(input.linux)) : undefined);
  add('.osrel', input.osRelease);
  add('.cmdline', input.cmdline);
  add('.dtb', input.devicetree);
  for (const d of input.devicetreeAuto ?? []) add('.dtbauto', d);
  add('.hwids', input.hwids);
  add('.uname', uname);
  add('.splash', input.splash);
  add('.pcrpkey', input.pcrpkey);
  add('.initrd', joinInitrds(input.initrds ?? []));
  for (const f of input.efifw ?? []) add('.efifw', f);
  add('.ucode', input.microcode);
  const builtin = new Set(out.map((s) => s.name));
  for (const s of input.sections ?? []) {
    if (builtin.has(s.name) || s.name === '.linux' || s.name === '.sbat' || out.some((o) => o.name === s.name)) {
      throw new UkiError(UKI_ERROR.BAD_INPUT, 0, `section ${s.name} given twice`);
    }
    out.push(s);
  }
  add('.linux', input.linux);
  return { before: out, profileLast: Boolean(input.profile && joining) };
};

/** Builds a UKI (or, without `linux`, an addon or profile PE) from a stub, as `ukify build` would. */
export const buildUki = (input: UkiBuildInput): Uint8Array => {
  const joining = (input.joinProfiles?.length ?? 0) > 0;
  const imports = (input.joinProfiles ?? []).map(profileImports);
  const { before, profileLast } = plannedSections(input);
  let out = withPeErrors('stub', () => stripTrailingSymbolTable(input.stub));
  out = withPeErrors('stub', () => {
    let o = out;
    for (const s of before) o = appendSection(o, s.name, s.data);
    // Profile PEs get no .sbat; UKIs merge the stub's and the kernel's; addons get ukify's addon entries.
    if (joining || !input.profile) {
      const sbat = input.linux
        ? mergeSbat([input.stub, input.linux], input.sbat?.length ? input.sbat : [UKI_SBAT])
        : mergeSbat([], input.sbat?.length ? input.sbat : [ADDON_SBAT]);
      o = replaceInPlace(o, '.sbat', sbat);
    }
    if (profileLast && input.profile) o = appendSection(o, '.profile', input.profile);
    for (const sections of imports) for (const s of sections) o = appendSection(o, s.name, s.data);
    return o;
  });
  return out;
};
