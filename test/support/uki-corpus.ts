/**
 * A generated corpus of UKIs for the UKI parser's equivalence test (issue 7), each case paired with the
 * StubInput that makes formats/uki's systemd-stub reference (`stubHandoff`) compute what the kernel must
 * receive — kernel, initrd, command line — or the failure the stub would stop with.
 *
 * Deterministic: case `i` of a run is drawn by fast-check from seed `caseSeed(runSeed, i)`, so
 * `UKI_SEED=<run seed> UKI_CASE=<i>` rebuilds exactly one case; `UKI_SEED=random` explores.
 * Cases are stratified: case `i` has theme `THEMES[i % THEMES.length]`, which raises the odds of that
 * theme's features, so every feature shows up in every run (the self-test counts them).
 *
 * Two builders: 'ukify' images come from formats/uki `buildUki` (profile PEs joined, sections in ukify's
 * order) plus `appendSection` for what ukify refuses (later duplicates, near-miss names); 'crafted' images
 * are laid out section by section with test/formats/pe-build.ts (any order, duplicates anywhere,
 * VirtualSize 0 / larger / smaller than the data, FileAlignment down to 32).
 *
 * How a case maps onto kexec (the driver's side): `image` is the file given to kexec_file_load (the
 * driver adds `.bpf` and signs it); `cmdline` is the user's command line, which plays the stub's
 * LoadOptions; `files` is `<uki>.efi.extra.d/` — addons and sidecars the loader hands to the kernel by
 * name. Addons that shim would refuse are signed by a key the kernel does not trust, or not signed;
 * `trusted: false` tells the reference so. Not generated, because kexec has no counterpart: the EFI-shell
 * argv, global `\loader\…` directories, SMBIOS cmdline extras, confidential VMs, a previous initrd,
 * hardware-matched `.dtbauto`/`.efifw`.
 */
import fc from 'fast-check';
import {
  appendSection,
  buildUki,
  type EspFile,
  type StubHandoff,
  type StubInput,
  stubHandoff,
  UkiError,
  type UkiErrorCode,
} from '../../formats/uki/index.ts';
import { buildPe, type BuildSection } from '../formats/pe-build.ts';
import { payload, sign, synthBzImage } from '../runtime/kernel/support.ts';
import { testKeys } from './fixtures.ts';

export const CORPUS_SEED = 20261122;
export const CORPUS_SIZE = 208;

/** The run seed: UKI_SEED=N replays a run, UKI_SEED=random explores, default the fixed CI seed. */
export const corpusSeed = (env: string | undefined = process.env.UKI_SEED): number => {
  if (env === 'random') return (Math.random() * 0x7fffffff) | 0;
  return env === undefined || env === '' ? CORPUS_SEED : Number(env);
};

/** fast-check seed of case `index` in run `runSeed` (a 32-bit mix, so neighbouring cases differ). */
export const caseSeed = (runSeed: number, index: number): number => {
  let h = (runSeed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) | 0;
};

export const THEMES = [
  'plain',
  'profiles',
  'missing-profile',
  'addons',
  'addon-uname',
  'addon-skips',
  'sidecars',
  'extra-sections',
  'duplicates',
  'empty-sections',
  'alignment',
  'section-cmdline',
  'user-cmdline',
] as const;
export type Theme = (typeof THEMES)[number];

// ---- the case specification (plain data, printed in reports) ----

/** A piece of command-line text; `bytes` are what ends up in the section or on the user's line. */
export interface TextPart {
  readonly kind: 'word' | 'space' | 'control' | 'del' | 'nonascii' | 'astral' | 'bad-utf8' | 'nul';
  readonly bytes: readonly number[];
}
export type Text = readonly TextPart[];

export interface SectionsSpec {
  /** Kernel variant (payload size and seed); undefined: no `.linux` in this range. */
  readonly linux?: number;
  readonly cmdline?: Text;
  readonly initrds?: readonly Uint8Array[];
  readonly ucode?: Uint8Array;
  readonly osrel?: Uint8Array;
  readonly uname?: string;
}

export interface BaseSpec extends SectionsSpec {
  readonly pcrsig?: Uint8Array;
  readonly pcrpkey?: Uint8Array;
  readonly dtb?: Uint8Array;
  readonly splash?: Uint8Array;
  /** Sections the stub ignores (near-miss names among them). */
  readonly junk: readonly { readonly name: string; readonly data: Uint8Array }[];
  /** The base `.profile` (becomes @0 when profiles are joined, or heads the table when none are). */
  readonly profile?: string;
}

export interface ProfileSpec extends SectionsSpec {
  readonly profile: string;
}

export interface AddonSpec {
  readonly name: string;
  readonly cmdline?: Text;
  readonly initrd?: Uint8Array;
  readonly ucode?: Uint8Array;
  readonly dtb?: Uint8Array;
  /** Relative to the UKI's base `.uname`: equal, different, or a NUL-less prefix (strncmp matches it). */
  readonly uname?: 'match' | 'mismatch' | 'prefix';
  readonly linux?: boolean;
  readonly signer: 'trusted' | 'untrusted' | 'unsigned';
}

/** A section the crafted builder places: `at` orders it (a sort key), `vsize` changes its VirtualSize. */
export interface CraftEdit {
  readonly at: number;
  /** zero: VirtualSize 0 over raw data; empty: no data at all; grow/shrink: VirtualSize past / short of the data. */
  readonly vsize?: 'zero' | 'empty' | 'grow' | 'shrink';
}

export interface CaseSpec {
  readonly theme: Theme;
  readonly builder: 'ukify' | 'crafted';
  readonly fileAlignment: number;
  readonly sectionAlignment: number;
  readonly base: BaseSpec;
  readonly profiles: readonly ProfileSpec[];
  /** Sections appended after the build (ukify: appendSection; crafted: inserted at `at`). */
  readonly duplicates: readonly { readonly name: string; readonly data: Uint8Array; readonly at: number }[];
  /** Crafted builder only: order and VirtualSize edits, one per base section in build order. */
  readonly craft: readonly CraftEdit[];
  readonly userCmdline?: Text;
  /** `@N` prefix on the user's command line (`rest`: whether text follows). */
  readonly select?: { readonly n: number; readonly form: 'alone' | 'space' | 'glued' };
  readonly addons: readonly AddonSpec[];
  readonly sidecars: readonly { readonly name: string; readonly data: Uint8Array }[];
  /** The user's initrd (kexec's initrd file): the parser treats it as a previously registered LoadFile2 initrd. */
  readonly userInitrd?: Uint8Array;
}

// ---- arbitraries ----

/** 0..99 without fast-check's bias towards small values (so `pct(arb, 10)` really means 10 %). */
const roll = fc.noBias(fc.integer({ min: 0, max: 99 }));
const pct = <T>(arb: fc.Arbitrary<T>, p: number): fc.Arbitrary<T | undefined> =>
  roll.chain((n): fc.Arbitrary<T | undefined> => (n < p ? arb : fc.constant(undefined)));
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const enc = (s: string): number[] => [...new TextEncoder().encode(s)];

const PARTS: Record<TextPart['kind'], readonly (readonly number[])[]> = {
  word: ['quiet', 'ro', 'root=/dev/vda2', 'console=ttyS0,115200', 'systemd.unit=rescue.target', 'x=1', '@2'].map(enc),
  space: [enc(' '), enc('  ')],
  control: [[0x09], [0x0a], [0x0d], [0x01], [0x1b]],
  del: [[0x7f]],
  nonascii: ['é', 'straße', '€', 'кирилл', '日本語'].map(enc),
  astral: ['😀', '𝔘'].map(enc),
  // every branch of the stub's decoder: bad leads, bad continuations, sequences cut short, 5- and
  // 6-byte forms, overlong forms of NUL, of a control character and of ASCII, a surrogate
  'bad-utf8': [
    [0xff],
    [0xfe],
    [0x80],
    [0xe2, 0x82],
    [0xc3, 0x28],
    [0xf8, 0x88, 0x80, 0x80, 0x80],
    [0xfc, 0x80, 0x80, 0x80, 0x81, 0xbf],
    [0xc0, 0x80],
    [0xc0, 0x89],
    [0xc1, 0x81],
    [0xe0, 0x80, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xf0, 0x9f],
  ],
  nul: [[0x00]],
};
const part = (kind: TextPart['kind']): fc.Arbitrary<TextPart> =>
  fc.constantFrom(...PARTS[kind]).map((b) => ({ kind, bytes: b }));

/** Command-line text: words separated by spaces, salted with the kinds `extra` lists. */
const textArb = (extra: readonly TextPart['kind'][], saltPct: number): fc.Arbitrary<Text> =>
  fc
    .tuple(
      fc.array(fc.tuple(part('word'), part('space')), { minLength: 1, maxLength: 4 }),
      extra.length
        ? fc.array(fc.tuple(fc.constantFrom(...extra), fc.nat(8)), {
            minLength: saltPct >= 90 ? 3 : 0,
            maxLength: saltPct >= 90 ? 5 : 3,
          })
        : fc.constant([]),
      roll,
      pct(fc.constantFrom(...PARTS.space, [0x20, 0x09], [0x0a]), 40),
      pct(fc.constantFrom(...PARTS.space, [0x0a], [0x20, 0x0d, 0x0a]), 40),
    )
    .chain(([words, salts, dice, lead, trail]) => {
      const base: TextPart[] = words.flat().slice(0, -1);
      const use = dice < saltPct ? salts : [];
      return fc.tuple(...use.map(([k]) => part(k))).map((ps) => {
        const out = [...base];
        for (const [i, p] of ps.entries()) out.splice(Math.min(use[i]![1], out.length), 0, p);
        if (lead) out.unshift({ kind: 'space', bytes: lead });
        if (trail) out.push({ kind: 'space', bytes: trail });
        return out;
      });
    });

export const textBytes = (t: Text): Uint8Array => Uint8Array.from(t.flatMap((p) => p.bytes));

const osrelArb = fc.constantFrom('ID=test\nVERSION_ID=1\n', 'ID=debian\nPRETTY_NAME="Debian"\n', 'IMAGE_ID=uki\n');
const unameArb = fc.constantFrom('6.1.0-56-cloud-amd64', '6.12.9+deb13-amd64', '6.18.0');
const profileText = (i: number) =>
  fc.constantFrom(`ID=p${i}\nTITLE=Profile ${i}\n`, `ID=rescue${i}\n`, `TITLE=é ${i}\n`);
const kernelArb = fc.integer({ min: 1, max: 0x7fff });

const sectionsArb = (t: Theme, linuxPct: number, sectionPct: number) =>
  fc.record({
    linux: pct(kernelArb, linuxPct),
    cmdline: pct(cmdlineArb(t), t === 'section-cmdline' ? 100 : sectionPct),
    initrds: pct(fc.array(bytes(1, 300), { minLength: 1, maxLength: 3 }), sectionPct),
    ucode: pct(bytes(1, 120), t === 'extra-sections' ? 60 : t === 'plain' ? 5 : 20),
    osrel: pct(
      osrelArb.map((s) => new TextEncoder().encode(s)),
      t === 'extra-sections' ? 60 : t === 'plain' ? 5 : 25,
    ),
    uname: pct(unameArb, t === 'addon-uname' ? 90 : 20),
  });

const cmdlineArb = (t: Theme): fc.Arbitrary<Text> =>
  t === 'section-cmdline'
    ? textArb(['control', 'del', 'nonascii', 'astral', 'bad-utf8', 'nul'], 90)
    : textArb(['control', 'nonascii'], 20);

const JUNK_NAMES = ['.sdmagic', '.sbom', '.note', '.linuxx', '.cmdlin', '.initrd2', '.data', '.reloc'];

const baseArb = (t: Theme) =>
  fc
    .tuple(
      sectionsArb(t, t === 'profiles' || t === 'duplicates' ? 80 : 97, t === 'plain' ? 25 : 75),
      fc.record({
        pcrsig: pct(bytes(1, 80), t === 'extra-sections' ? 60 : t === 'plain' ? 4 : 10),
        pcrpkey: pct(bytes(1, 80), t === 'extra-sections' ? 60 : t === 'plain' ? 4 : 10),
        dtb: pct(bytes(1, 40), 10),
        splash: pct(bytes(1, 40), 10),
        junk: fc.array(fc.record({ name: fc.constantFrom(...JUNK_NAMES), data: bytes(1, 60) }), {
          maxLength: t === 'extra-sections' ? 3 : 1,
        }),
        profile: pct(profileText(0), t === 'profiles' || t === 'missing-profile' ? 60 : t === 'plain' ? 0 : 10),
      }),
    )
    .map(([s, b]): BaseSpec => ({ ...s, ...b }));

const profileArb = (t: Theme, i: number) =>
  fc.tuple(profileText(i + 1), sectionsArb(t, 50, 50)).map(([profile, s]): ProfileSpec => ({ profile, ...s }));

const ADDON_NAMES = ['10-debug', '20-console', '30-ucode', 'a', 'b.x', 'zz'];
/** Addon shapes: 'mixed' draws each payload section; the others are the stub's edge cases. */
const ADDON_SHAPES = ['mixed', 'mixed', 'mixed', 'dtb-only', 'no-payload'] as const;
const addonArb = (t: Theme) =>
  fc
    .record({
      name: fc
        .tuple(fc.constantFrom(...ADDON_NAMES), fc.nat(99))
        .chain(([n, k]) =>
          fc.constantFrom(
            `${n}${k}.addon.efi`,
            `${n}${k}.addon.efi`,
            `${n}${k}.ADDON.EFI`,
            ...(t === 'addon-skips' ? [`.${n}${k}.addon.efi`, `${n}${k}.efi`, `${n}é${k}.addon.efi`] : []),
          ),
        ),
      shape:
        t === 'addon-skips' ? fc.constantFrom(...ADDON_SHAPES) : fc.constantFrom(...ADDON_SHAPES, 'mixed', 'mixed'),
      cmdline: pct(textArb(['nonascii', 'control'], 20), 60),
      initrd: pct(bytes(1, 200), 40),
      ucode: pct(bytes(1, 100), 30),
      dtb: pct(bytes(1, 40), 15),
      uname: pct(
        fc.constantFrom<NonNullable<AddonSpec['uname']>>('match', 'prefix', 'mismatch'),
        t === 'addon-uname' ? 85 : 20,
      ),
      linux: roll.map((n) => n < (t === 'addon-skips' ? 35 : 3)),
      signer: fc
        .integer({ min: 0, max: 99 })
        .map((n): AddonSpec['signer'] =>
          n < (t === 'addon-skips' ? 60 : 85)
            ? 'trusted'
            : n < (t === 'addon-skips' ? 80 : 93)
              ? 'untrusted'
              : 'unsigned',
        ),
    })
    .map(({ shape, cmdline, initrd, ucode, dtb, uname, ...a }): AddonSpec => {
      const payloads =
        shape === 'dtb-only'
          ? { dtb: dtb ?? Uint8Array.of(0xd0, 0x0d, 0xfe, 0xed) }
          : shape === 'no-payload'
            ? {}
            : { cmdline, initrd, ucode, dtb };
      return Object.fromEntries(
        Object.entries({ ...a, ...payloads, uname }).filter(([, v]) => v !== undefined),
      ) as unknown as AddonSpec;
    });

const SIDECAR_NAMES = ['a.cred', 'b.cred', 'Z.CRED', 'tools.raw', 'usr.sysext.raw', 'etc.confext.raw', 'x.Confext.RAW'];
const SKIPPED_SIDECARS = ['.hidden.cred', 'notes.txt', 'crédit.cred', 'raw'];

const userCmdlineArb = (t: Theme): fc.Arbitrary<Text | undefined> =>
  pct(
    textArb(t === 'user-cmdline' ? ['control', 'del', 'nonascii', 'astral'] : ['nonascii'], 60),
    t === 'user-cmdline' ? 85 : 35,
  );

const ALIGNMENTS: readonly [number, number][] = [
  [0x200, 0x1000],
  [0x200, 0x200],
  [0x1000, 0x1000],
  [0x20, 0x20],
  [0x40, 0x1000],
  [0x80, 0x80],
  [0x400, 0x2000],
];

export const caseArb = (t: Theme): fc.Arbitrary<CaseSpec> => {
  const nProfiles =
    t === 'profiles' || t === 'missing-profile'
      ? fc.noBias(fc.integer({ min: t === 'profiles' ? 2 : 1, max: 3 }))
      : t === 'plain'
        ? fc.constant(0)
        : fc.constantFrom(0, 0, 0, 1);
  return fc
    .record({
      builder: fc.constantFrom<CaseSpec['builder']>(
        ...(t === 'empty-sections' || t === 'alignment'
          ? (['crafted'] as const)
          : (['ukify', 'ukify', 'crafted'] as const)),
      ),
      align: t === 'alignment' ? fc.constantFrom(...ALIGNMENTS.slice(1)) : fc.constantFrom(...ALIGNMENTS),
      base: baseArb(t),
      profiles: nProfiles.chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => profileArb(t, i)))),
      duplicates: fc.array(
        fc.record({
          name: fc.constantFrom('.cmdline', '.initrd', '.linux', '.ucode', '.uname', '.osrel', '.profile'),
          data: bytes(1, 60),
          at: fc.nat(1000),
        }),
        { maxLength: t === 'duplicates' ? 3 : t === 'plain' ? 0 : 1, minLength: t === 'duplicates' ? 1 : 0 },
      ),
      craft: fc.array(
        fc.record({
          at: fc.nat(1000),
          vsize: pct(
            fc.constantFrom<CraftEdit['vsize']>('zero', 'empty', 'grow', 'shrink'),
            t === 'empty-sections' ? 70 : 4,
          ),
        }),
        { minLength: 16, maxLength: 16 },
      ),
      userCmdline: userCmdlineArb(t),
      select: pct(
        fc.record({
          n: t === 'missing-profile' ? fc.integer({ min: 1, max: 5 }) : fc.constantFrom(1, 2, 3, 1, 2, 0),
          form: fc.constantFrom<'alone' | 'space' | 'glued'>('alone', 'space', 'space', 'glued'),
        }),
        t === 'missing-profile' ? 100 : t === 'profiles' ? 80 : 15,
      ),
      addons: fc.array(addonArb(t), {
        maxLength: t === 'addons' || t === 'addon-uname' || t === 'addon-skips' ? 5 : t === 'plain' ? 0 : 2,
        minLength: t === 'addons' || t === 'addon-uname' || t === 'addon-skips' ? 1 : 0,
      }),
      sidecars: fc.array(
        fc.record({
          name: fc.constantFrom(...SIDECAR_NAMES, ...(t === 'sidecars' ? SKIPPED_SIDECARS : [])),
          // at least one byte: kernel_read_file refuses an empty file, so no loader can hand one over
          data: bytes(1, 90),
        }),
        { maxLength: t === 'sidecars' ? 6 : t === 'plain' ? 0 : 1, minLength: t === 'sidecars' ? 2 : 0 },
      ),
      userInitrd: pct(bytes(1, 400), t === 'plain' ? 0 : 12),
    })
    .map(({ align, sidecars, addons, select, ...r }) => ({
      ...r,
      // 'profiles' selects one that exists (@0 is the base `.profile` when there is one, else the first joined)
      ...(select === undefined
        ? {}
        : {
            select:
              t === 'missing-profile'
                ? { ...select, n: Math.max(1, r.profiles.length + (r.base.profile ? 1 : 0)) + (select.n % 3) }
                : { ...select, n: select.n % Math.max(1, r.profiles.length + (r.base.profile ? 1 : 0)) },
          }),
      theme: t,
      fileAlignment: align[0],
      sectionAlignment: align[1],
      // the ESP lists each name once
      addons: addons.filter((a, i) => addons.findIndex((b) => b.name === a.name) === i),
      sidecars: sidecars.filter((s, i) => sidecars.findIndex((b) => b.name === s.name) === i),
    }));
};

/** The spec of case `index` in run `runSeed`. */
export const caseSpec = (runSeed: number, index: number): CaseSpec => {
  const t = THEMES[index % THEMES.length]!;
  const [spec] = fc.sample(caseArb(t), { seed: caseSeed(runSeed, index), numRuns: 1 });
  if (spec === undefined) throw new Error('fast-check produced no sample');
  return spec;
};

// ---- building the images and files ----

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const CODE = 0x60000020;
/** Header room for the sections the builders (and the driver's `.bpf`) add. */
const HEADER_ROOM = 0xc00;
/** Raw room of the stub's `.sbat`, which ukify rewrites in place with the merged SBAT. */
const SBAT_ROOM = 0x180;

/** The kernel of variant `k`: a small bzImage64 (what the x86 kexec probe accepts). */
export const kernelOf = (k: number): Uint8Array => synthBzImage(payload(64 + (k % 1500), k));

const stubs = new Map<string, Uint8Array>();
/** A minimal systemd-stub stand-in: `.text` and an empty `.sbat`, with header room for many sections. */
const stubPe = (fa: number, sa: number): Uint8Array => {
  const key = `${fa}/${sa}`;
  let s = stubs.get(key);
  if (s === undefined) {
    s = buildPe({
      fileAlignment: fa,
      sectionAlignment: sa,
      sizeOfHeaders: alignUp(HEADER_ROOM, fa),
      sections: [
        { name: '.text', data: new Uint8Array(16).fill(0xc3), characteristics: CODE },
        { name: '.sbat', data: new Uint8Array(SBAT_ROOM) },
      ],
    }).bytes;
    stubs.set(key, s);
  }
  return s;
};

const sectionInputs = (s: SectionsSpec) => ({
  ...(s.linux === undefined ? {} : { linux: kernelOf(s.linux) }),
  ...(s.cmdline ? { cmdline: textBytes(s.cmdline) } : {}),
  ...(s.initrds ? { initrds: s.initrds } : {}),
  ...(s.ucode ? { microcode: s.ucode } : {}),
  ...(s.osrel ? { osRelease: s.osrel } : {}),
  ...(s.uname ? { uname: utf8(s.uname) } : {}),
});

/** A duplicate's data; a `.linux` one is a real kernel, so a view that takes it still passes the x86 probe. */
const duplicateData = (d: CaseSpec['duplicates'][number]): Uint8Array =>
  d.name === '.linux' ? kernelOf(d.at + 1) : d.data;

const uniqueJunk = (b: BaseSpec) => b.junk.filter((j, i) => b.junk.findIndex((x) => x.name === j.name) === i);

const ukifyImage = (s: CaseSpec): Uint8Array => {
  const stub = stubPe(s.fileAlignment, s.sectionAlignment);
  const joinProfiles = s.profiles.map((p) => buildUki({ stub, profile: utf8(p.profile), ...sectionInputs(p) }));
  const b = s.base;
  let img = buildUki({
    stub,
    ...sectionInputs(b),
    ...(b.pcrpkey ? { pcrpkey: b.pcrpkey } : {}),
    ...(b.dtb ? { devicetree: b.dtb } : {}),
    ...(b.splash ? { splash: b.splash } : {}),
    sections: [...(b.pcrsig ? [{ name: '.pcrsig', data: b.pcrsig }] : []), ...uniqueJunk(b)],
    ...(b.profile ? { profile: utf8(b.profile) } : {}),
    joinProfiles,
  });
  for (const d of s.duplicates) img = appendSection(img, d.name, duplicateData(d));
  return img;
};

/** One range's sections in ukify's order. */
const rangeSections = (s: SectionsSpec): BuildSection[] => {
  const out: BuildSection[] = [];
  const add = (name: string, data: Uint8Array | undefined, characteristics?: number): void => {
    if (data && data.length > 0) out.push({ name, data, ...(characteristics ? { characteristics } : {}) });
  };
  const i = sectionInputs(s);
  add('.osrel', i.osRelease);
  add('.cmdline', i.cmdline);
  add('.uname', i.uname);
  const initrds = i.initrds ?? [];
  add(
    '.initrd',
    initrds.length > 1
      ? Uint8Array.from(initrds.flatMap((x) => [...x, ...new Uint8Array((4 - (x.length % 4)) % 4)]))
      : initrds[0],
  );
  add('.ucode', i.microcode);
  add('.linux', i.linux, CODE);
  return out;
};

/** Section by section: shuffled base, VirtualSize edits, duplicates inserted anywhere after `.text`. */
/** The crafted builder's base sections before shuffling, and the VirtualSize edit each one gets. */
const craftedBase = (s: CaseSpec): { sec: BuildSection; edit: CraftEdit }[] => {
  const b = s.base;
  const base = rangeSections(b);
  const extra = (name: string, data: Uint8Array | undefined) => data && base.splice(base.length - 1, 0, { name, data });
  extra('.pcrsig', b.pcrsig);
  extra('.pcrpkey', b.pcrpkey);
  extra('.dtb', b.dtb);
  extra('.splash', b.splash);
  for (const j of uniqueJunk(b)) extra(j.name, j.data);
  return base.map((sec, i) => {
    const e = s.craft[i % s.craft.length]!;
    return { sec, edit: sec.name === '.linux' ? { at: e.at } : e };
  });
};

const craftedImage = (s: CaseSpec): Uint8Array => {
  const b = s.base;
  // VirtualSize edits: 'grow' is laid out as such; 'zero'/'shrink' are patched into the header after the
  // layout, so the memory range stays reserved for the raw data (the reader refuses overlapping ranges).
  const patches = new Map<BuildSection, number>();
  const edited = craftedBase(s)
    .map(({ sec, edit: e }) => {
      const len = sec.data.length;
      let out = sec;
      if (e.vsize === 'grow') out = { ...sec, virtualSize: len + 1 + (e.at % 300) };
      if (e.vsize === 'empty') out = { ...sec, data: new Uint8Array(0) };
      if (e.vsize === 'zero' || e.vsize === 'shrink') {
        out = { ...sec };
        patches.set(out, e.vsize === 'zero' ? 0 : Math.floor(len / 2));
      }
      return { sec: out, at: e.at };
    })
    .sort((x, y) => x.at - y.at)
    .map((x) => x.sec);
  const profile = (text: string): BuildSection => ({ name: '.profile', data: utf8(text) });
  const all: BuildSection[] = [
    ...(b.profile && s.profiles.length === 0 ? [profile(b.profile)] : []),
    ...edited,
    ...(b.profile && s.profiles.length > 0 ? [profile(b.profile)] : []),
    ...s.profiles.flatMap((p) => [profile(p.profile), ...rangeSections(p)]),
  ];
  for (const d of s.duplicates) all.splice(d.at % (all.length + 1), 0, { name: d.name, data: duplicateData(d) });
  const fa = s.fileAlignment;
  const sections = [{ name: '.text', data: new Uint8Array(16).fill(0xc3), characteristics: CODE }, ...all];
  const built = buildPe({
    fileAlignment: fa,
    sectionAlignment: s.sectionAlignment,
    sizeOfHeaders: alignUp(0x80 + 24 + 240 + 40 * (sections.length + 4), fa),
    sections,
  });
  const view = new DataView(built.bytes.buffer);
  sections.forEach((sec, i) => {
    const v = patches.get(sec);
    if (v !== undefined) view.setUint32(built.at.sections[i]!.header + 8, v, true);
  });
  return built.bytes;
};

const ADDON_UNAME_FALLBACK = '6.1.0-56-cloud-amd64';

const addonFile = (a: AddonSpec, ukiUname: string | undefined): EspFile => {
  const u = ukiUname ?? ADDON_UNAME_FALLBACK;
  const uname =
    a.uname === 'match'
      ? u
      : a.uname === 'mismatch'
        ? '5.10.0-1-amd64'
        : a.uname === 'prefix'
          ? u.slice(0, 4)
          : undefined;
  const image = buildUki({
    stub: stubPe(0x200, 0x1000),
    ...(a.cmdline ? { cmdline: textBytes(a.cmdline) } : {}),
    ...(a.initrd ? { initrds: [a.initrd] } : {}),
    ...(a.ucode ? { microcode: a.ucode } : {}),
    ...(a.dtb ? { devicetree: a.dtb } : {}),
    ...(uname ? { uname: utf8(uname) } : {}),
    ...(a.linux ? { linux: kernelOf(7) } : {}),
  });
  const keys = testKeys();
  const data =
    a.signer === 'trusted' ? sign(image, keys.rsa) : a.signer === 'untrusted' ? sign(image, keys.stranger) : image;
  return { name: a.name, data, trusted: a.signer === 'trusted' };
};

/** The user's command line (the stub's LoadOptions), with the `@N` prefix. */
export const userCmdlineOf = (s: CaseSpec): string | undefined => {
  const text = s.userCmdline ? new TextDecoder().decode(textBytes(s.userCmdline)) : undefined;
  if (s.select === undefined) return text;
  const at = `@${s.select.n}`;
  if (s.select.form === 'alone' || text === undefined) return at;
  return s.select.form === 'space' ? `${at} ${text}` : `${at}${text}`;
};

// ---- cases ----

export type Expected =
  | { readonly ok: true; readonly handoff: StubHandoff }
  | { readonly ok: false; readonly code: UkiErrorCode; readonly message: string };

export interface UkiCase {
  /** `UKI_SEED=<seed> UKI_CASE=<index>` rebuilds this case. */
  readonly seed: number;
  readonly index: number;
  readonly spec: CaseSpec;
  /** The UKI, unsigned and without `.bpf`. */
  readonly image: Uint8Array;
  /** The user's command line (kexec --command-line; the stub's LoadOptions); undefined: none. */
  readonly cmdline: string | undefined;
  /** `<uki>.efi.extra.d/`: addons (signed or not) and sidecars, as the loader hands them over. */
  readonly files: readonly EspFile[];
  /** The user's initrd (kexec_file_load's initrd_fd); undefined: KEXEC_FILE_NO_INITRAMFS. */
  readonly initrd: Uint8Array | undefined;
  readonly stub: StubInput;
  readonly expected: Expected;
  readonly features: ReadonlySet<Feature>;
}

/** The stub reference over an input; its UkiError becomes the expected failure. */
export const expectedOf = (input: StubInput): Expected => {
  try {
    return { ok: true, handoff: stubHandoff(input) };
  } catch (e) {
    if (e instanceof UkiError) return { ok: false, code: e.code, message: e.message };
    throw e;
  }
};

export const buildCase = (seed: number, index: number): UkiCase => {
  const spec = caseSpec(seed, index);
  const image = spec.builder === 'ukify' ? ukifyImage(spec) : craftedImage(spec);
  const files: EspFile[] = [
    ...spec.addons.map((a) => addonFile(a, spec.base.uname)),
    ...spec.sidecars.map((f) => ({ name: f.name, data: f.data })),
  ];
  const cmdline = userCmdlineOf(spec);
  const stub: StubInput = {
    uki: image,
    ...(cmdline === undefined ? {} : { loadOptions: cmdline }),
    extraDir: files,
    // the parser cannot know the kernel's signature policy and takes Secure Boot as off (docs/ABI.md §10)
    secureBoot: false,
    ...(spec.userInitrd ? { previousInitrd: spec.userInitrd } : {}),
  };
  const expected = expectedOf(stub);
  const features = featuresOf(spec, image, expected);
  return { seed, index, spec, image, cmdline, files, initrd: spec.userInitrd, stub, expected, features };
};

/** The corpus of a run: UKI_CASE=i (or a comma list) restricts it to those cases. */
export const corpus = (
  seed = corpusSeed(),
  size = CORPUS_SIZE,
  only: string | undefined = process.env.UKI_CASE,
): UkiCase[] => {
  const picks = only ? only.split(',').map(Number) : Array.from({ length: size }, (_, i) => i);
  return picks.map((i) => buildCase(seed, i));
};

/** How to rebuild a case, for failure messages. */
export const replayHint = (c: Pick<UkiCase, 'seed' | 'index' | 'spec'>): string =>
  `case ${c.index} (theme ${c.spec.theme}, ${c.spec.builder}); replay: UKI_SEED=${c.seed} UKI_CASE=${c.index}`;

// ---- features ----

/** What the corpus is meant to exercise; the self-test requires each in every run. */
export const FEATURES = [
  'builder-ukify',
  'builder-crafted',
  'falign<512',
  'falign=512',
  'falign>512',
  'salign=falign',
  'profiles',
  'profile-first',
  'profile-selected>0',
  'profile-overrides',
  'profile-missing',
  'no-linux',
  'stub-fails',
  'initrd',
  'initrd-joined',
  'no-initrd-out',
  'ucode',
  'pcrsig',
  'pcrpkey',
  'osrel',
  'profile-cpio',
  'credentials',
  'sysext',
  'confext',
  'sidecar-multi',
  'sidecar-ignored',
  'addon-cmdline',
  'addon-initrd',
  'addon-ucode',
  'addon-dtb-only',
  'addon-uname-match',
  'addon-uname-prefix',
  'addon-skip-uname',
  'addon-skip-linux',
  'addon-skip-empty',
  'addon-skip-untrusted',
  'addon-skip-unsigned',
  'addon-name-ignored',
  'junk-section',
  'near-miss-name',
  'duplicate-section',
  'empty-section',
  'vsize>data',
  'vsize<data',
  'cmdline-control',
  'cmdline-del',
  'cmdline-nonascii',
  'cmdline-astral',
  'cmdline-bad-utf8',
  'cmdline-nul',
  'cmdline-edge-space',
  'no-cmdline-out',
  'user-cmdline',
  'user-cmdline-ignored',
  'user-cmdline-nonascii',
  'user-@N',
  'user-initrd',
] as const;
export type Feature = (typeof FEATURES)[number];

const sectionNames = (image: Uint8Array): string[] => {
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const lfanew = v.getUint32(0x3c, true);
  const n = v.getUint16(lfanew + 6, true);
  const table = lfanew + 24 + v.getUint16(lfanew + 20, true);
  return Array.from({ length: n }, (_, i) => {
    const raw = image.subarray(table + 40 * i, table + 40 * i + 8);
    const end = raw.indexOf(0);
    return new TextDecoder().decode(end < 0 ? raw : raw.subarray(0, end));
  });
};

const featuresOf = (s: CaseSpec, image: Uint8Array, e: Expected): Set<Feature> => {
  const f = new Set<Feature>();
  const on = (cond: unknown, ...names: Feature[]): void => {
    if (cond) for (const n of names) f.add(n);
  };
  on(s.builder === 'ukify', 'builder-ukify');
  on(s.builder === 'crafted', 'builder-crafted');
  on(s.fileAlignment < 0x200, 'falign<512');
  on(s.fileAlignment === 0x200, 'falign=512');
  on(s.fileAlignment > 0x200, 'falign>512');
  on(s.sectionAlignment === s.fileAlignment, 'salign=falign');
  const names = sectionNames(image);
  const firstProfile = names.indexOf('.profile');
  on(firstProfile >= 0, 'profiles');
  on(firstProfile >= 0 && names.slice(1, firstProfile).every((n) => n === '.sbat'), 'profile-first');
  on(
    names.some((n) => n === '.linuxx' || n === '.cmdlin'),
    'near-miss-name',
  );
  on(s.base.junk.length > 0, 'junk-section');
  on(s.duplicates.length > 0, 'duplicate-section');
  if (s.builder === 'crafted') {
    const edits = craftedBase(s).map((x) => x.edit.vsize);
    on(edits.includes('zero') || edits.includes('empty'), 'empty-section');
    on(edits.includes('grow'), 'vsize>data');
    on(edits.includes('shrink'), 'vsize<data');
  }
  const texts = [s.base.cmdline, ...s.profiles.map((p) => p.cmdline), ...s.addons.map((a) => a.cmdline)];
  const kinds = new Set(texts.flatMap((t) => (t ?? []).map((p) => p.kind)));
  on(kinds.has('control'), 'cmdline-control');
  on(kinds.has('del'), 'cmdline-del');
  on(kinds.has('nonascii'), 'cmdline-nonascii');
  on(kinds.has('astral'), 'cmdline-astral');
  on(kinds.has('bad-utf8'), 'cmdline-bad-utf8');
  on(kinds.has('nul'), 'cmdline-nul');
  on(
    texts.some((t) => t && (t[0]?.kind === 'space' || t.at(-1)?.kind === 'space')),
    'cmdline-edge-space',
  );
  on(s.userCmdline, 'user-cmdline');
  on(
    s.userCmdline?.some((p) => p.kind === 'nonascii' || p.kind === 'astral'),
    'user-cmdline-nonascii',
  );
  on(s.select, 'user-@N');
  on(
    s.sidecars.some((x) => !SIDECAR_NAMES.includes(x.name)),
    'sidecar-ignored',
  );
  on(
    s.addons.some(
      (a) => a.name.startsWith('.') || !a.name.toLowerCase().endsWith('.addon.efi') || /[^\x00-\x7f]/.test(a.name),
    ),
    'addon-name-ignored',
  );
  if (!e.ok) {
    f.add('stub-fails');
    on(e.code === 'PROFILE_NOT_FOUND', 'profile-missing');
    on(e.code === 'NO_LINUX', 'no-linux');
    return f;
  }
  const h = e.handoff;
  on(h.profile > 0, 'profile-selected>0');
  on(
    firstProfile >= 0 && Object.values(h.sections).some((i) => i !== undefined && i > firstProfile),
    'profile-overrides',
  );
  const kindsOut = new Set(h.initrdPieces.map((p) => p.kind));
  on(kindsOut.has('initrd'), 'initrd');
  on(kindsOut.has('initrd') && (s.base.initrds?.length ?? 0) > 1, 'initrd-joined');
  on(h.initrd === undefined, 'no-initrd-out');
  on(kindsOut.has('ucode'), 'ucode');
  on(kindsOut.has('pcrsig'), 'pcrsig');
  on(kindsOut.has('pcrpkey'), 'pcrpkey');
  on(kindsOut.has('osrel'), 'osrel');
  on(kindsOut.has('profile'), 'profile-cpio');
  on(kindsOut.has('credentials'), 'credentials');
  on(kindsOut.has('sysext'), 'sysext');
  on(kindsOut.has('confext'), 'confext');
  const perDir = (suffix: RegExp) => s.sidecars.filter((x) => suffix.test(x.name)).length;
  on(perDir(/\.cred$/i) > 1 || perDir(/\.confext\.raw$/i) > 1, 'sidecar-multi');
  on(h.cmdline === '', 'no-cmdline-out');
  on(kindsOut.has('previous'), 'user-initrd');
  on(s.userCmdline && userCmdlineOf(s) && !h.customCmdlineDropped && processedIgnored(s), 'user-cmdline-ignored');
  for (const a of h.addons) {
    const spec = s.addons.find((x) => x.name === a.name);
    on(a.took.includes('.cmdline'), 'addon-cmdline');
    on(a.took.includes('.initrd'), 'addon-initrd');
    on(a.took.includes('.ucode'), 'addon-ucode');
    on(a.took.length === 1 && a.took[0] === '.dtb', 'addon-dtb-only');
    on(!a.skipped && spec?.uname === 'match' && s.base.uname, 'addon-uname-match');
    on(!a.skipped && spec?.uname === 'prefix' && s.base.uname, 'addon-uname-prefix');
    on(a.skipped === 'UNAME_MISMATCH', 'addon-skip-uname');
    on(a.skipped === 'ADDON_HAS_LINUX', 'addon-skip-linux');
    on(a.skipped === 'ADDON_EMPTY', 'addon-skip-empty');
    on(a.skipped === 'UNTRUSTED' && spec?.signer === 'untrusted', 'addon-skip-untrusted');
    on(a.skipped === 'UNTRUSTED' && spec?.signer === 'unsigned', 'addon-skip-unsigned');
  }
  return f;
};

/** The user's line had a control character, so the stub ignored all of it. */
const processedIgnored = (s: CaseSpec): boolean => {
  const line = userCmdlineOf(s) ?? '';
  return [...line].some((c) => c.charCodeAt(0) <= 0x1f);
};

/** Feature → number of cases, in FEATURES order. */
export const featureCounts = (cases: readonly Pick<UkiCase, 'features'>[]): Map<Feature, number> =>
  new Map(FEATURES.map((name) => [name, cases.filter((c) => c.features.has(name)).length]));

/** The counts as a table (several columns, for the test output). */
export const featureTable = (counts: ReadonlyMap<string, number | string>, columns = 3): string => {
  const cells = [...counts].map(([k, v]) => `${k.padEnd(22)} ${String(v).padStart(7)}`);
  const rows: string[] = [];
  for (let i = 0; i < cells.length; i += columns) rows.push(cells.slice(i, i + columns).join('   '));
  return rows.join('\n');
};

// ---- comparing what a parser produced with the reference ----

/** What came out of a load: errno and the kimage's buffers (cmdline with its NUL, as the kernel keeps it). */
export interface Produced {
  readonly errno: number;
  readonly kernel?: Uint8Array | undefined;
  readonly initrd?: Uint8Array | undefined;
  readonly cmdline?: Uint8Array | undefined;
  readonly log: readonly string[];
}

const firstDifference = (a: Uint8Array, b: Uint8Array): number => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
};

const equalBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean =>
  (a?.length ?? 0) === (b?.length ?? 0) && firstDifference(a ?? new Uint8Array(0), b ?? new Uint8Array(0)) < 0;

const hexAround = (b: Uint8Array, at: number): string =>
  [...b.subarray(Math.max(0, at - 4), at + 12)].map((x) => x.toString(16).padStart(2, '0')).join(' ');

/** The command line without the kernel's terminating NUL (absent and empty are the same: no command line). */
export const cmdlineText = (b: Uint8Array | undefined): Uint8Array =>
  b === undefined ? new Uint8Array(0) : b.at(-1) === 0 ? b.subarray(0, -1) : b;

export type Mismatch = 'kernel' | 'initrd' | 'cmdline' | 'errno' | 'unexpected-failure' | 'unexpected-success';

/**
 * What differs between a produced load and the expectation, each with a readable explanation.
 * `kernelLog`: the load went through kexec_file_load, so a failure must also leave a kexec_file log line.
 */
export const compare = (expected: Expected, got: Produced, kernelLog = true): { kind: Mismatch; text: string }[] => {
  const out: { kind: Mismatch; text: string }[] = [];
  const log = got.log
    .filter((l) => /kexec|bpf/.test(l))
    .slice(-6)
    .join('\n    ');
  if (!expected.ok) {
    if (got.errno >= 0)
      out.push({
        kind: 'unexpected-success',
        text: `the stub fails (${expected.code}: ${expected.message}) but the load returned ${got.errno}`,
      });
    else if (got.kernel !== undefined)
      out.push({ kind: 'errno', text: `failed with ${got.errno} yet a kimage exists` });
    else if (kernelLog && !got.log.some((l) => l.includes('kexec_file') && /fail|err/i.test(l)))
      out.push({ kind: 'errno', text: `failed with ${got.errno} without a kexec_file log line` });
    return out;
  }
  const h = expected.handoff;
  if (got.errno !== 0) {
    out.push({
      kind: 'unexpected-failure',
      text: `the stub boots (profile @${h.profile}) but the load returned ${got.errno}\n    ${log}`,
    });
    return out;
  }
  if (!equalBytes(h.kernel, got.kernel)) {
    const g = got.kernel ?? new Uint8Array(0);
    const at = firstDifference(h.kernel, g);
    out.push({
      kind: 'kernel',
      text: `kernel: expected ${h.kernel.length} bytes (section #${h.sections['.linux']}), got ${g.length}; first difference at ${at}`,
    });
  }
  if (!equalBytes(h.initrd, got.initrd)) {
    const e = h.initrd ?? new Uint8Array(0);
    const g = got.initrd ?? new Uint8Array(0);
    const at = firstDifference(e, g);
    const piece = h.initrdPieces.find((p) => at >= p.offset && at < p.offset + ((p.data.length + 3) & ~3));
    const where = piece
      ? `in piece '${piece.kind}'${piece.source ? ` (${piece.source})` : ''} at +${at - piece.offset} of ${piece.data.length}`
      : 'past the last piece';
    const layout = h.initrdPieces.map(
      (p) => `${p.kind}${p.source ? `(${p.source})` : ''}@${p.offset}+${p.data.length}`,
    );
    out.push({
      kind: 'initrd',
      text:
        `initrd: expected ${e.length} bytes, got ${g.length}; first difference at ${at} ${where}\n` +
        `    expected pieces: ${layout.join(' ') || '(no initrd)'}\n` +
        `    expected: ${hexAround(e, at)}\n    got:      ${hexAround(g, at)}`,
    });
  }
  const gc = cmdlineText(got.cmdline);
  if (!equalBytes(h.cmdlineUtf8, gc)) {
    const d = new TextDecoder();
    out.push({
      kind: 'cmdline',
      text: `cmdline: expected ${JSON.stringify(h.cmdline)}\n    got      ${JSON.stringify(d.decode(gc))} (first difference at byte ${firstDifference(h.cmdlineUtf8, gc)})`,
    });
  }
  return out;
};

/** A readable summary of a case's inputs, for failure messages. */
export const describeCase = (c: UkiCase): string => {
  const names = sectionNames(c.image);
  return [
    replayHint(c),
    `sections: ${names.join(' ')}`,
    `user cmdline: ${JSON.stringify(c.cmdline)}${c.spec.userInitrd ? `, user initrd ${c.spec.userInitrd.length} bytes` : ''}`,
    `files: ${c.files.map((f) => `${f.name}${f.trusted === false ? '(untrusted)' : ''}`).join(' ') || '(none)'}`,
    `expected: ${c.expected.ok ? `profile @${c.expected.handoff.profile}, ${c.expected.handoff.kernel.length}-byte kernel, initrd ${c.expected.handoff.initrdPieces.map((p) => p.kind).join('+') || 'none'}, cmdline ${JSON.stringify(c.expected.handoff.cmdline)}` : c.expected.code}`,
  ].join('\n  ');
};
