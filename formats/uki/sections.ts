/**
 * The sections systemd-stub knows, in its canonical order (src/fundamental/uki.h: the order in which it
 * measures them into PCR 11), with what each one is for. One table; everything else derives from it.
 */

export interface UkiSectionInfo {
  readonly name: string;
  /** Measured into PCR 11 by the stub (everything but `.pcrsig`, which signs those measurements). */
  readonly measured: boolean;
  /** The stub reads it from addons (`.uname` only for matching). */
  readonly addon: boolean;
  /** ukify lets it repeat within one profile range (the stub picks one by hardware match). */
  readonly mayRepeat: boolean;
  readonly content: string;
}

const S = (name: string, content: string, o: Partial<Omit<UkiSectionInfo, 'name' | 'content'>> = {}) =>
  ({ name, content, measured: o.measured ?? true, addon: o.addon ?? false, mayRepeat: o.mayRepeat ?? false }) as const;

export const UKI_SECTIONS = [
  S('.linux', 'kernel EFI PE image (required)'),
  S('.osrel', 'os-release text'),
  S('.cmdline', 'kernel command line (UTF-8)', { addon: true }),
  S('.initrd', 'initrd', { addon: true }),
  S('.ucode', 'uncompressed cpio with CPU microcode, placed before every other initrd', { addon: true }),
  S('.splash', 'Windows BMP boot splash'),
  S('.dtb', 'flattened devicetree', { addon: true }),
  S('.uname', 'uname -r of the kernel; addons carrying one must match', { addon: true }),
  S('.sbat', 'SBAT revocation metadata (CSV)'),
  S('.pcrsig', 'JSON signature of the expected PCR 11 values', { measured: false }),
  S('.pcrpkey', 'PEM public key for .pcrsig'),
  S('.profile', 'multi-profile separator and metadata'),
  S('.dtbauto', 'devicetree chosen by compatible/CHID match', { addon: true, mayRepeat: true }),
  S('.hwids', 'CHID to device table for .dtbauto/.efifw selection'),
  S('.efifw', 'firmware blob chosen by fwid', { mayRepeat: true }),
] as const satisfies readonly UkiSectionInfo[];

export type UkiSectionName = (typeof UKI_SECTIONS)[number]['name'];

export const UKI_SECTION_NAMES: readonly UkiSectionName[] = UKI_SECTIONS.map((s) => s.name);

/** The sections an addon contributes (besides `.uname`, which only gates it): at least one must be present. */
export const ADDON_PAYLOAD_SECTIONS = [
  '.cmdline',
  '.dtb',
  '.dtbauto',
  '.initrd',
  '.ucode',
] as const satisfies readonly UkiSectionName[];

export const isUkiSectionName = (name: string): name is UkiSectionName =>
  (UKI_SECTION_NAMES as readonly string[]).includes(name);

export const sectionInfo = (name: UkiSectionName): UkiSectionInfo => UKI_SECTIONS.find((s) => s.name === name)!;

/** Largest number of profiles a UKI may carry (UNIFIED_PROFILES_MAX). */
export const PROFILES_MAX = 256;
