/**
 * What systemd-stub hands the kernel, in plain TypeScript: the oracle the BPF UKI parser is held to.
 *
 * Modelled version: systemd v258 (src/boot/stub.c, pe.c, cpio.c, efi-string.c, util.c), which is v257 plus
 * the global sysext/confext archives from `\loader\extensions` (leave `loaderExtensions` empty for v257).
 * Main-only behaviour after v258 is left out: the previously registered LoadFile2 initrd (an option below,
 * off by default), the boot-secret archive, and the `console=` that newer stubs append in some VMs.
 *
 * The rules, in the order the stub applies them:
 * 1. Arguments. Raw LoadOptions (not from the EFI shell): ignored entirely when shorter than one UCS-2
 *    character or when any character before the first NUL is below 0x20; otherwise an `@N` prefix (digits,
 *    then one space or the end) selects profile N and is removed, and the rest is mangled (see text.ts).
 *    From the EFI shell: argv[1] may be `@N`; the remaining arguments are joined by single spaces, unmangled.
 * 2. Sections: the view of profile N (model.ts); a missing profile other than @0, or no `.linux`, is fatal.
 * 3. Command line: a non-empty custom one is dropped under Secure Boot when the view has `.cmdline` or the
 *    machine is a confidential VM; when none is left, the view's `.cmdline` (UTF-8 → UCS-2, mangled) is used.
 * 4. Addons: global ones (`\loader\addons`) then the UKI's (`<uki>.efi.extra.d`), each directory filtered
 *    (no leading `.`, ASCII, ≤ 255 characters, `*.addon.efi` case-insensitively) and sorted by UCS-2 strcmp.
 *    An addon is skipped when refused by the firmware/shim (modelled by `trusted: false`), when it is not a
 *    native PE, when it has none of `.cmdline .dtb .dtbauto .initrd .ucode`, when it has `.linux`, or when
 *    both it and the UKI have `.uname` and strncmp over the addon's section size differs. Each taken `.cmdline`
 *    is mangled and appended to the addon line with one space when that line is non-empty (an empty one
 *    still adds the space); the whole addon line is mangled again and appended to the command line with
 *    one space (or replaces an empty one). Then the SMBIOS `io.systemd.stub.kernel-cmdline-extra` the same
 *    way, unless in a confidential VM.
 * 5. Initrd pieces, empty ones left out: `.ucode` of addons in reverse order; the view's `.ucode`; the
 *    previous initrd (main only); the view's `.initrd`; the sidecar archives credentials, global credentials,
 *    sysext, global sysext, confext, global confext (each only when a file qualifies); the `.pcrsig`,
 *    `.pcrpkey`, `.osrel` and `.profile` archives (from the view, when set); the addons' `.initrd` in order.
 *    One piece is handed over as it is; several are concatenated, each zero-padded to a multiple of 4.
 * 6. Kernel: the view's `.linux`, VirtualSize bytes.
 */
import { packSidecarDirectory, packSidecarLiteral, SIDECARS, type SidecarFile } from '../cpio/index.ts';
import { type PeImage, readPe } from '../pe/index.ts';
import { UKI_ERROR, UkiError } from './errors.ts';
import {
  addonProblem,
  type HardwareMatch,
  isSet,
  locateSections,
  plainBytes,
  profileView,
  readUki,
  type SectionView,
  type UkiImage,
  viewData,
} from './model.ts';
import type { UkiSectionName } from './sections.ts';
import {
  mangleCmdline,
  profileFromArgument,
  splitProfilePrefix,
  ucs2ToUtf8,
  unameMatches,
  utf8ToUcs2,
} from './text.ts';

/** A file on the ESP as the stub lists it (directories are never listed here). */
export interface EspFile {
  readonly name: string;
  readonly data: Uint8Array;
  /** Addons only: false when shim/firmware would refuse its signature (Secure Boot). Default true. */
  readonly trusted?: boolean;
}

export interface StubInput {
  /** The UKI image, or one already read. */
  readonly uki: Uint8Array | UkiImage;
  /** Raw LoadOptions as a UCS-2 string (what a boot entry passes), e.g. `@1 quiet`. */
  readonly loadOptions?: string;
  /** Arguments when started from the EFI shell, argv[0] (the stub's path) included. Wins over loadOptions. */
  readonly shellArgv?: readonly string[];
  readonly secureBoot?: boolean;
  readonly confidentialVm?: boolean;
  /** The value of an SMBIOS type 11 `io.systemd.stub.kernel-cmdline-extra=` string. */
  readonly smbiosCmdlineExtra?: string;
  /** `<uki>.efi.extra.d/`: per-UKI addons, credentials, sysexts and confexts. */
  readonly extraDir?: readonly EspFile[];
  /** `\loader\addons\`. */
  readonly loaderAddons?: readonly EspFile[];
  /** `\loader\credentials\`. */
  readonly loaderCredentials?: readonly EspFile[];
  /** `\loader\extensions\` (v258+). */
  readonly loaderExtensions?: readonly EspFile[];
  /** An initrd another loader registered before the stub ran (systemd main only). */
  readonly previousInitrd?: Uint8Array;
  readonly hardwareMatch?: HardwareMatch;
}

export type InitrdPieceKind =
  | 'ucode-addon'
  | 'ucode'
  | 'previous'
  | 'initrd'
  | 'credentials'
  | 'global-credentials'
  | 'sysext'
  | 'global-sysext'
  | 'confext'
  | 'global-confext'
  | 'pcrsig'
  | 'pcrpkey'
  | 'osrel'
  | 'profile'
  | 'initrd-addon';

export interface InitrdPiece {
  readonly kind: InitrdPieceKind;
  /** Addon file name for addon pieces. */
  readonly source?: string;
  readonly data: Uint8Array;
  /** Offset of the piece in the combined initrd. */
  readonly offset: number;
}

export interface AddonOutcome {
  readonly name: string;
  readonly scope: 'global' | 'uki';
  /** Undefined when taken. */
  readonly skipped?:
    | 'UNTRUSTED'
    | 'NOT_NATIVE_PE'
    | 'UNLOADABLE'
    | 'ADDON_EMPTY'
    | 'ADDON_HAS_LINUX'
    | 'UNAME_MISMATCH';
  /** What was taken from it. */
  readonly took: readonly ('.cmdline' | '.dtb' | '.dtbauto' | '.initrd' | '.ucode')[];
}

export interface StubHandoff {
  readonly profile: number;
  /** Which section of the image the view uses for each name (section table index). */
  readonly sections: Partial<Record<UkiSectionName, number>>;
  readonly kernel: Uint8Array;
  /** The final command line (UCS-2 string) and its UTF-8 bytes as the kernel sees them. */
  readonly cmdline: string;
  readonly cmdlineUtf8: Uint8Array;
  /** Undefined when the stub installs no initrd. */
  readonly initrd: Uint8Array | undefined;
  readonly initrdPieces: readonly InitrdPiece[];
  /** Devicetree blobs installed, in order (the view's `.dtbauto` or `.dtb`, then addon ones). */
  readonly devicetrees: readonly Uint8Array[];
  readonly addons: readonly AddonOutcome[];
  /** The custom command line was dropped because of Secure Boot. */
  readonly customCmdlineDropped: boolean;
}

/** Which addon file names the stub picks from a directory listing, in load order. */
export const selectAddons = <T extends { readonly name: string }>(files: readonly T[]): T[] => {
  const ok = (n: string): boolean =>
    !n.startsWith('.') && /^[\x00-\x7f]*$/.test(n) && n.length <= 255 && n.toLowerCase().endsWith('.addon.efi');
  return files.filter((f) => ok(f.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
};

/** process_arguments: the selected profile and the custom command line (undefined when none). */
export const processArguments = (
  input: Pick<StubInput, 'loadOptions' | 'shellArgv'>,
): { profile: number; cmdline: string | undefined } => {
  if (input.shellArgv) {
    const argv = input.shellArgv;
    if (argv.length <= 1) return { profile: 0, cmdline: undefined };
    const profile = profileFromArgument(argv[1]!);
    const rest = argv.slice(profile === undefined ? 1 : 2);
    return { profile: profile ?? 0, cmdline: rest.length ? rest.join(' ') : undefined };
  }
  const opts = input.loadOptions;
  if (opts === undefined || opts.length < 1) return { profile: 0, cmdline: undefined };
  const nul = opts.indexOf('\0');
  const text = nul < 0 ? opts : opts.slice(0, nul);
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) <= 0x1f) return { profile: 0, cmdline: undefined };
  const { profile, rest } = splitProfilePrefix(text);
  return { profile, cmdline: mangleCmdline(rest) };
};

const ALIGN = 4;
const align4 = (n: number): number => (n + ALIGN - 1) & ~(ALIGN - 1);

/** combine_initrds: one piece as is; several concatenated, each zero-padded to 4 bytes. */
export const combineInitrds = (pieces: readonly Uint8Array[]): { data: Uint8Array | undefined; offsets: number[] } => {
  if (pieces.length === 0) return { data: undefined, offsets: [] };
  if (pieces.length === 1) return { data: pieces[0], offsets: [0] };
  const offsets: number[] = [];
  let total = 0;
  for (const p of pieces) {
    offsets.push(total);
    total += align4(p.length);
  }
  const out = new Uint8Array(total);
  for (const [i, p] of pieces.entries()) out.set(p, offsets[i]);
  return { data: out, offsets };
};

/** What the stub copies out of a taken addon before unloading it. */
interface LoadedAddon {
  readonly name: string;
  readonly cmdline: Uint8Array | undefined;
  /** `.dtbauto` when it matched, else `.dtb`. */
  readonly devicetree: Uint8Array | undefined;
  readonly initrd: Uint8Array | undefined;
  readonly ucode: Uint8Array | undefined;
}

const loadAddons = (
  files: readonly EspFile[],
  scope: 'global' | 'uki',
  uki: UkiImage,
  ukiUname: Uint8Array | undefined,
  match: HardwareMatch | undefined,
  outcomes: AddonOutcome[],
): LoadedAddon[] => {
  const taken: LoadedAddon[] = [];
  for (const f of selectAddons(files)) {
    const skip = (skipped: NonNullable<AddonOutcome['skipped']>): void => {
      outcomes.push({ name: f.name, scope, skipped, took: [] });
    };
    if (f.trusted === false) {
      skip('UNTRUSTED');
      continue;
    }
    let pe: PeImage;
    try {
      pe = readPe(plainBytes(f.data));
    } catch {
      skip('NOT_NATIVE_PE');
      continue;
    }
    if (pe.coff.machine !== uki.pe.coff.machine || pe.sections.length === 0) {
      skip('NOT_NATIVE_PE');
      continue;
    }
    let view: SectionView;
    let loaded: LoadedAddon;
    let uname: Uint8Array | undefined;
    try {
      view = locateSections(pe, pe.sections, match);
      const get = (n: UkiSectionName) => viewData(pe, view, n);
      uname = get('.uname');
      const devicetree = get('.dtbauto') ?? get('.dtb');
      loaded = { name: f.name, cmdline: get('.cmdline'), devicetree, initrd: get('.initrd'), ucode: get('.ucode') };
    } catch (e) {
      // A section the firmware could not map (VirtualSize beyond what we materialise): LoadImage fails.
      if (!(e instanceof UkiError)) throw e;
      skip('UNLOADABLE');
      continue;
    }
    const problem = addonProblem(view);
    if (problem) {
      skip(problem);
      continue;
    }
    if (ukiUname && uname && !unameMatches(ukiUname, uname)) {
      skip('UNAME_MISMATCH');
      continue;
    }
    const took = (['.cmdline', '.dtbauto', '.dtb', '.initrd', '.ucode'] as const).filter((n) => isSet(view, n));
    // .dtbauto is preferred over .dtb within one addon.
    outcomes.push({ name: f.name, scope, took: took.filter((n) => n !== '.dtb' || !took.includes('.dtbauto')) });
    taken.push(loaded);
  }
  return taken;
};

/** Appends `extra` to `line` with one space, or makes it the line when the line is empty. */
const appendWithSpace = (line: string, extra: string): string => (line === '' ? extra : `${line} ${extra}`);

/** Runs the stub's logic over a UKI and its surroundings; throws UkiError where the stub would fail to boot. */
export const stubHandoff = (input: StubInput): StubHandoff => {
  const uki = input.uki instanceof Uint8Array ? readUki(input.uki) : input.uki;
  const { pe } = uki;
  const args = processArguments(input);
  const view = profileView(uki, args.profile, input.hardwareMatch);
  const data = (name: UkiSectionName): Uint8Array | undefined => viewData(pe, view, name);

  // settle_command_line
  let cmdline = args.cmdline ?? '';
  let customCmdlineDropped = false;
  if (cmdline !== '' && input.secureBoot && (isSet(view, '.cmdline') || input.confidentialVm)) {
    cmdline = '';
    customCmdlineDropped = true;
  }
  if (cmdline === '') {
    const section = data('.cmdline');
    cmdline = section ? mangleCmdline(utf8ToUcs2(section)) : '';
  }

  // load_all_addons: global first, then the UKI's own.
  const ukiUname = data('.uname');
  const outcomes: AddonOutcome[] = [];
  const addons = [
    ...loadAddons(input.loaderAddons ?? [], 'global', uki, ukiUname, input.hardwareMatch, outcomes),
    ...loadAddons(input.extraDir ?? [], 'uki', uki, ukiUname, input.hardwareMatch, outcomes),
  ];
  let addonLine = '';
  for (const a of addons) {
    if (!a.cmdline) continue;
    const extra = mangleCmdline(utf8ToUcs2(a.cmdline));
    addonLine = `${addonLine}${addonLine === '' ? '' : ' '}${extra}`;
  }
  const addonCmdline = mangleCmdline(addonLine);
  if (addonCmdline !== '') cmdline = appendWithSpace(cmdline, addonCmdline);
  if (!input.confidentialVm && input.smbiosCmdlineExtra !== undefined) {
    const extra = mangleCmdline(input.smbiosCmdlineExtra);
    if (extra !== '') cmdline = appendWithSpace(cmdline, extra);
  }

  // Devicetrees: the view's (.dtbauto preferred), then the addons' in load order.
  const devicetrees: Uint8Array[] = [];
  const ownDt = data('.dtbauto') ?? data('.dtb');
  if (ownDt) devicetrees.push(ownDt);
  for (const a of addons) if (a.devicetree) devicetrees.push(a.devicetree);

  // The initrd pieces in the stub's order.
  const pieces: { kind: InitrdPieceKind; source?: string; data: Uint8Array | undefined }[] = [];
  for (const a of [...addons].reverse()) {
    pieces.push({ kind: 'ucode-addon', source: a.name, data: a.ucode });
  }
  pieces.push({ kind: 'ucode', data: data('.ucode') });
  pieces.push({ kind: 'previous', data: input.previousInitrd });
  pieces.push({ kind: 'initrd', data: data('.initrd') });
  const dir = (files: readonly EspFile[] | undefined, kind: Parameters<typeof packSidecarDirectory>[0]) =>
    packSidecarDirectory(kind, (files ?? []) as readonly SidecarFile[]);
  pieces.push({ kind: 'credentials', data: dir(input.extraDir, SIDECARS.credentials) });
  pieces.push({ kind: 'global-credentials', data: dir(input.loaderCredentials, SIDECARS.globalCredentials) });
  pieces.push({ kind: 'sysext', data: dir(input.extraDir, SIDECARS.sysext) });
  pieces.push({ kind: 'global-sysext', data: dir(input.loaderExtensions, SIDECARS.globalSysext) });
  pieces.push({ kind: 'confext', data: dir(input.extraDir, SIDECARS.confext) });
  pieces.push({ kind: 'global-confext', data: dir(input.loaderExtensions, SIDECARS.globalConfext) });
  const literal = (name: UkiSectionName, kind: Parameters<typeof packSidecarLiteral>[0]) => {
    const d = data(name);
    return d ? packSidecarLiteral(kind, d) : undefined;
  };
  pieces.push({ kind: 'pcrsig', data: literal('.pcrsig', SIDECARS.pcrsig) });
  pieces.push({ kind: 'pcrpkey', data: literal('.pcrpkey', SIDECARS.pcrpkey) });
  pieces.push({ kind: 'osrel', data: literal('.osrel', SIDECARS.osrel) });
  pieces.push({ kind: 'profile', data: literal('.profile', SIDECARS.profile) });
  for (const a of addons) {
    pieces.push({ kind: 'initrd-addon', source: a.name, data: a.initrd });
  }
  const present = pieces.filter((p): p is typeof p & { data: Uint8Array } => p.data !== undefined && p.data.length > 0);
  const combined = combineInitrds(present.map((p) => p.data));

  const kernel = data('.linux');
  if (!kernel) throw new UkiError(UKI_ERROR.NO_LINUX, pe.offsets.sectionTable, 'no .linux section');
  const sections: Partial<Record<UkiSectionName, number>> = {};
  for (const [name, l] of Object.entries(view) as [UkiSectionName, NonNullable<SectionView[UkiSectionName]>][]) {
    if (l.size !== 0) sections[name] = l.section.index;
  }
  return {
    profile: args.profile,
    sections,
    kernel,
    cmdline,
    cmdlineUtf8: ucs2ToUtf8(cmdline),
    initrd: combined.data,
    initrdPieces: present.map((p, i) => ({
      kind: p.kind,
      ...(p.source === undefined ? {} : { source: p.source }),
      data: p.data,
      offset: combined.offsets[i]!,
    })),
    devicetrees,
    addons: outcomes,
    customCmdlineDropped,
  };
};
