/**
 * A UKI (or addon) as systemd-stub sees it: the PE section table split into the base range and the
 * `.profile`-separated profile ranges, and the per-profile view of the sections (src/boot/pe.c).
 *
 * Lookup rules modelled (systemd v258 pe.c):
 * - Names compare over at most 8 bytes of the header's Name field, stopping at the wanted name's end
 *   (so the stub sees `.linux` in a header whose name is `.linux\0` followed by anything).
 * - Within a range the FIRST section of a name wins, even one with VirtualSize 0, which then counts as
 *   absent (the stub tests `memory_size != 0`): an empty first `.cmdline` hides a later one.
 * - `.dtbauto` and `.efifw` are taken only when they match the hardware (a caller-supplied matcher; by
 *   default nothing matches, as on a machine without firmware DT whose CHIDs are not in `.hwids`).
 * - Data = VirtualSize bytes at the section's VA: the raw data, zero-filled past SizeOfRawData.
 * - Profiles: the base range is every section before the first `.profile`; profile @N starts at the N-th
 *   `.profile` (from 0) and runs to the next one or the table's end. The view of @N is the base lookup with
 *   every name found in @N's range (even with VirtualSize 0) replacing the base one. A missing @0 is fine
 *   (a UKI without profiles); any other missing profile makes the stub fail.
 * - The 64-bit stub's overflow checks (PointerToRawData+SizeOfRawData, VA+VirtualSize+ImageBase past
 *   SIZE_MAX) cannot trigger with 32-bit header fields, so they are not modelled.
 */
import { PeError, type PeImage, type PeSection, readPe, sectionData } from '../pe/index.ts';
import { UKI_ERROR, UkiError } from './errors.ts';
import { ADDON_PAYLOAD_SECTIONS, UKI_SECTION_NAMES, type UkiSectionName } from './sections.ts';

export interface LocatedSection {
  readonly section: PeSection;
  /** VirtualSize: what the stub reads and measures. 0 means "found but absent". */
  readonly size: number;
}

/** The sections of one view (a range, or base + profile), by name; absent names are missing. */
export type SectionView = Partial<Record<UkiSectionName, LocatedSection>>;

/** Chooses among repeated `.dtbauto` / `.efifw` sections: true when this blob matches the machine. */
export type HardwareMatch = (name: '.dtbauto' | '.efifw', data: Uint8Array, section: PeSection) => boolean;

export interface UkiImage {
  readonly pe: PeImage;
  /** Sections before the first `.profile`. */
  readonly base: readonly PeSection[];
  /** Profile ranges in order; each begins with its `.profile` section. */
  readonly profiles: readonly (readonly PeSection[])[];
}

/** A plain Uint8Array view of the same bytes (a Node Buffer would leak into every slice handed out). */
export const plainBytes = (bytes: Uint8Array): Uint8Array =>
  Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);

const asUkiError = (e: unknown): never => {
  if (e instanceof PeError) throw new UkiError(UKI_ERROR.NOT_PE, e.offset, e.message, { cause: e });
  throw e;
};

/** pe_section_name_equal(header_name, wanted). */
export const sectionNameIs = (rawName: Uint8Array, wanted: string): boolean => {
  for (let i = 0; i < 8; i++) {
    const a = rawName[i] ?? 0;
    const b = i < wanted.length ? wanted.charCodeAt(i) : 0;
    if (a !== b) return false;
    if (a === 0) return true;
  }
  return true;
};

/** The mapped bytes of a located section (VirtualSize bytes). */
export const located = (pe: PeImage, l: LocatedSection): Uint8Array => {
  try {
    return sectionData(pe, l.section);
  } catch (e) {
    return asUkiError(e);
  }
};

/** True when the view has the section with a non-zero size (PE_SECTION_VECTOR_IS_SET). */
export const isSet = (view: SectionView, name: UkiSectionName): boolean => (view[name]?.size ?? 0) !== 0;

/** The bytes of a set section, or undefined. */
export const viewData = (pe: PeImage, view: SectionView, name: UkiSectionName): Uint8Array | undefined => {
  const l = view[name];
  return l && l.size !== 0 ? located(pe, l) : undefined;
};

/** pe_locate_sections over one range: the first match of every known name (hardware-matched for auto ones). */
export const locateSections = (
  pe: PeImage,
  range: readonly PeSection[],
  match: HardwareMatch = () => false,
  names: readonly UkiSectionName[] = UKI_SECTION_NAMES,
): SectionView => {
  const view: SectionView = {};
  for (const name of names) {
    for (const s of range) {
      if (!sectionNameIs(s.rawName, name)) continue;
      if (
        (name === '.dtbauto' || name === '.efifw') &&
        !match(name, located(pe, { section: s, size: s.virtualSize }), s)
      )
        continue;
      view[name] = { section: s, size: s.virtualSize };
      break;
    }
  }
  return view;
};

/** Splits the section table into base and profile ranges. */
export const splitRanges = (pe: PeImage): Pick<UkiImage, 'base' | 'profiles'> => {
  const base: PeSection[] = [];
  const profiles: PeSection[][] = [];
  for (const s of pe.sections) {
    if (sectionNameIs(s.rawName, '.profile')) profiles.push([s]);
    else (profiles.at(-1) ?? base).push(s);
  }
  return { base, profiles };
};

/** Reads a PE image as a UKI: typed errors for a non-PE input and for an image with no `.linux` at all. */
export const readUki = (bytes: Uint8Array): UkiImage => {
  let pe: PeImage;
  try {
    pe = readPe(plainBytes(bytes));
  } catch (e) {
    return asUkiError(e);
  }
  const uki = { pe, ...splitRanges(pe) };
  if (!pe.sections.some((s) => sectionNameIs(s.rawName, '.linux'))) {
    throw new UkiError(UKI_ERROR.NO_LINUX, pe.offsets.sectionTable, 'the image has no .linux section: not a UKI');
  }
  return uki;
};

/** Number of profiles the stub can select (@0 always exists, as the implied profile of a UKI without any). */
export const profileCount = (uki: UkiImage): number => Math.max(1, uki.profiles.length);

/**
 * find_sections: the view of profile @N (base sections overridden by the profile's). Throws
 * PROFILE_NOT_FOUND for a profile other than @0 that the table lacks, NO_LINUX when the view has no `.linux`.
 */
export const profileView = (uki: UkiImage, profile: number, match?: HardwareMatch): SectionView => {
  const view = locateSections(uki.pe, uki.base, match);
  const range = uki.profiles[profile];
  if (range) Object.assign(view, locateSections(uki.pe, range, match));
  else if (profile !== 0) {
    throw new UkiError(
      UKI_ERROR.PROFILE_NOT_FOUND,
      uki.pe.offsets.sectionTable,
      `profile @${profile} does not exist (the image has ${uki.profiles.length} profile(s))`,
    );
  }
  if (!isSet(view, '.linux')) {
    throw new UkiError(UKI_ERROR.NO_LINUX, uki.pe.offsets.sectionTable, `profile @${profile} has no .linux section`);
  }
  return view;
};

export interface UkiAddon {
  readonly pe: PeImage;
  /** The whole table searched at once, first match wins (addons have no profiles). */
  readonly view: SectionView;
}

/**
 * Why the stub ignores an addon with this view, or undefined when it takes it (checked in the stub's order:
 * no payload section first, then an embedded kernel).
 */
export const addonProblem = (view: SectionView): 'ADDON_EMPTY' | 'ADDON_HAS_LINUX' | undefined => {
  if (!ADDON_PAYLOAD_SECTIONS.some((n) => isSet(view, n))) return UKI_ERROR.ADDON_EMPTY;
  if (isSet(view, '.linux')) return UKI_ERROR.ADDON_HAS_LINUX;
  return undefined;
};

/** Reads a PE image as a UKI addon: typed errors for what the stub would refuse. */
export const readAddon = (bytes: Uint8Array, match?: HardwareMatch): UkiAddon => {
  let pe: PeImage;
  try {
    pe = readPe(plainBytes(bytes));
  } catch (e) {
    return asUkiError(e);
  }
  const view = locateSections(pe, pe.sections, match);
  const problem = addonProblem(view);
  if (problem === UKI_ERROR.ADDON_EMPTY) {
    throw new UkiError(problem, pe.offsets.sectionTable, 'no .cmdline, .dtb, .dtbauto, .initrd or .ucode section');
  }
  if (problem === UKI_ERROR.ADDON_HAS_LINUX) {
    throw new UkiError(problem, view['.linux']!.section.headerOffset, 'the addon has a .linux section: it is a UKI');
  }
  return { pe, view };
};

/** A plain summary of the ranges (names in table order), for reports and tests. */
export const describeRanges = (uki: Pick<UkiImage, 'base' | 'profiles'>) => ({
  base: uki.base.map((s) => s.name),
  profiles: uki.profiles.map((r) => r.map((s) => s.name)),
});
