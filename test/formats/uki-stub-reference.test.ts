import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCpio } from '../../formats/cpio/index.ts';
import {
  combineInitrds,
  type EspFile,
  type InitrdPieceKind,
  mangleCmdline,
  processArguments,
  type StubInput,
  stubHandoff,
  UKI_ERROR,
  UkiError,
} from '../../formats/uki/index.ts';
import { patched } from './pe-build.ts';
import { craftPe, craftUki, enc, type Sec } from './uki-support.ts';

const dec = (b: Uint8Array | undefined): string | undefined => (b ? new TextDecoder().decode(b) : undefined);
const file = (name: string, data: string | Uint8Array, trusted?: boolean): EspFile => ({
  name,
  data: typeof data === 'string' ? enc(data) : data,
  ...(trusted === undefined ? {} : { trusted }),
});
const addon = (sections: readonly Sec[]): Uint8Array => craftPe(sections);

/** The stub's initrd order, the kinds listed once. */
const ORDER: readonly InitrdPieceKind[] = [
  'ucode-addon',
  'ucode',
  'previous',
  'initrd',
  'credentials',
  'global-credentials',
  'sysext',
  'global-sysext',
  'confext',
  'global-confext',
  'pcrsig',
  'pcrpkey',
  'osrel',
  'profile',
  'initrd-addon',
];

const BASE: readonly Sec[] = [
  { name: '.osrel', data: 'ID=test\n' },
  { name: '.cmdline', data: ' root=/dev/vda  quiet\n' },
  { name: '.uname', data: '6.1.0-56-cloud-amd64' },
  { name: '.linux', data: 'KERNEL-BYTES' },
];
const uki = craftUki(BASE);
const handoff = (input: Omit<StubInput, 'uki'>, image: Uint8Array = uki) => stubHandoff({ uki: image, ...input });

describe('arguments (process_arguments)', () => {
  it.each<[string, Pick<StubInput, 'loadOptions' | 'shellArgv'>, number, string | undefined]>([
    ['no load options', {}, 0, undefined],
    ['empty load options', { loadOptions: '' }, 0, undefined],
    ['plain load options, mangled', { loadOptions: '  a  b ' }, 0, 'a  b'],
    ['a profile prefix', { loadOptions: '@1 x=1' }, 1, 'x=1'],
    ['a profile alone', { loadOptions: '@2' }, 2, ''],
    ['a control character anywhere: ignored whole', { loadOptions: '@1 a\tb' }, 0, undefined],
    ['text after a NUL is not looked at', { loadOptions: '@1 a\0\t' }, 1, 'a'],
    ['shell: profile argument and the rest joined', { shellArgv: ['stub.efi', '@3', 'a', ' b'] }, 3, 'a  b'],
    ['shell: no profile', { shellArgv: ['stub.efi', 'a', 'b'] }, 0, 'a b'],
    ['shell: only a profile', { shellArgv: ['stub.efi', '@1'] }, 1, undefined],
    ['shell: argv[0] only', { shellArgv: ['stub.efi'] }, 0, undefined],
  ])('%s', (_, input, profile, cmdline) => {
    expect(processArguments(input)).toEqual({ profile, cmdline });
  });
});

describe('command line (settle_command_line, addons, SMBIOS)', () => {
  it.each<[string, Omit<StubInput, 'uki'>, boolean, string]>([
    ['the UKI .cmdline when none is passed', {}, true, 'root=/dev/vda  quiet'],
    ['a custom one without Secure Boot', { loadOptions: 'init=/bin/sh' }, true, 'init=/bin/sh'],
    [
      'Secure Boot drops a custom one when the UKI has .cmdline',
      { loadOptions: 'init=/bin/sh', secureBoot: true },
      true,
      'root=/dev/vda  quiet',
    ],
    [
      'Secure Boot keeps it when the UKI has no .cmdline',
      { loadOptions: 'init=/bin/sh', secureBoot: true },
      false,
      'init=/bin/sh',
    ],
    [
      'Secure Boot in a confidential VM drops it anyway',
      { loadOptions: 'init=/bin/sh', secureBoot: true, confidentialVm: true },
      false,
      '',
    ],
    ['an empty custom line falls back to .cmdline', { loadOptions: '@0 ' }, true, 'root=/dev/vda  quiet'],
    ['SMBIOS extra appended with a space', { smbiosCmdlineExtra: ' debug ' }, true, 'root=/dev/vda  quiet debug'],
    [
      'SMBIOS extra ignored in a confidential VM',
      { smbiosCmdlineExtra: 'debug', confidentialVm: true },
      true,
      'root=/dev/vda  quiet',
    ],
    ['SMBIOS extra alone', { smbiosCmdlineExtra: 'debug' }, false, 'debug'],
  ])('%s', (_, input, withCmdline, cmdline) => {
    const image = withCmdline ? uki : craftUki(BASE.filter((s) => s.name !== '.cmdline'));
    const h = handoff(input, image);
    expect(h.cmdline).toBe(cmdline);
    expect(dec(h.cmdlineUtf8)).toBe(cmdline);
  });

  it('decodes .cmdline from UTF-8 the stub way (astral characters dropped)', () => {
    const h = handoff(
      {},
      craftUki([
        { name: '.cmdline', data: 'a=é b=😀 c' },
        { name: '.linux', data: 'K' },
      ]),
    );
    expect(h.cmdline).toBe('a=é b= c');
  });

  it('appends addon command lines: global first, each directory sorted, empty ones leave a space', () => {
    const h = handoff({
      loaderAddons: [
        file('b.addon.efi', addon([{ name: '.cmdline', data: 'g2' }])),
        file('a.addon.efi', addon([{ name: '.cmdline', data: '\tg1 ' }])),
      ],
      extraDir: [
        file('z.addon.efi', addon([{ name: '.cmdline', data: 'u2' }])),
        file('m.addon.efi', addon([{ name: '.cmdline', data: '  ' }])),
        file('B.addon.efi', addon([{ name: '.cmdline', data: 'u0' }])),
      ],
    });
    expect(h.addons.map((a) => a.name)).toEqual([
      'a.addon.efi',
      'b.addon.efi',
      'B.addon.efi',
      'm.addon.efi',
      'z.addon.efi',
    ]);
    expect(h.cmdline).toBe('root=/dev/vda  quiet g1 g2 u0  u2');
  });

  it('appends addon command lines to a custom one too, and ignores a blank addon line', () => {
    const a = [file('a.addon.efi', addon([{ name: '.cmdline', data: 'x=1' }]))];
    expect(handoff({ loadOptions: 'custom', extraDir: a }).cmdline).toBe('custom x=1');
    const blank = [file('a.addon.efi', addon([{ name: '.cmdline', data: ' \n' }]))];
    expect(handoff({ extraDir: blank }).cmdline).toBe('root=/dev/vda  quiet');
  });
});

describe('addon selection (load_addons)', () => {
  const cmd = (c: string) => addon([{ name: '.cmdline', data: c }]);
  it('lists only *.addon.efi files (any case), no dot files, ASCII names of at most 255 characters', () => {
    const h = handoff({
      extraDir: [
        file('ok.ADDON.EFI', cmd('a')),
        file('.hidden.addon.efi', cmd('b')),
        file('nö.addon.efi', cmd('c')),
        file(`${'x'.repeat(246)}.addon.efi`, cmd('d')),
        file(`${'y'.repeat(245)}.addon.efi`, cmd('e')),
        file('x.efi', cmd('f')),
        file('x.cred', 'secret'),
      ],
    });
    expect(h.addons.map((a) => a.name)).toEqual(['ok.ADDON.EFI', `${'y'.repeat(245)}.addon.efi`]);
    expect(h.cmdline.endsWith(' a e')).toBe(true);
  });

  it.each<[string, EspFile, string]>([
    ['refused by the firmware', file('a.addon.efi', cmd('x'), false), 'UNTRUSTED'],
    ['not a PE', file('a.addon.efi', 'MZ garbage'), 'NOT_NATIVE_PE'],
    ['another machine type', file('a.addon.efi', patched(cmd('x'), [[0x84, 2, 0xaa64]])), 'NOT_NATIVE_PE'],
    [
      'no payload section',
      file('a.addon.efi', addon([{ name: '.uname', data: '6.1.0-56-cloud-amd64' }])),
      'ADDON_EMPTY',
    ],
    [
      'a kernel inside',
      file(
        'a.addon.efi',
        addon([
          { name: '.cmdline', data: 'x' },
          { name: '.linux', data: 'K' },
        ]),
      ),
      'ADDON_HAS_LINUX',
    ],
    [
      'another .uname',
      file(
        'a.addon.efi',
        addon([
          { name: '.cmdline', data: 'x' },
          { name: '.uname', data: '6.2' },
        ]),
      ),
      'UNAME_MISMATCH',
    ],
  ])('skips an addon %s', (_, f, reason) => {
    const h = handoff({ extraDir: [f] });
    expect(h.addons).toEqual([{ name: 'a.addon.efi', scope: 'uki', skipped: reason, took: [] }]);
    expect(h.cmdline).toBe('root=/dev/vda  quiet');
  });

  it('takes an addon whose .uname matches (or is a prefix), or when the UKI has no .uname', () => {
    const same = file(
      'a.addon.efi',
      addon([
        { name: '.cmdline', data: 'x' },
        { name: '.uname', data: '6.1.0-56-cloud-amd64' },
      ]),
    );
    const prefix = file(
      'b.addon.efi',
      addon([
        { name: '.cmdline', data: 'y' },
        { name: '.uname', data: '6.1.0' },
      ]),
    );
    expect(handoff({ extraDir: [same, prefix] }).cmdline).toBe('root=/dev/vda  quiet x y');
    const other = file(
      'a.addon.efi',
      addon([
        { name: '.cmdline', data: 'z' },
        { name: '.uname', data: '9.9' },
      ]),
    );
    const noUname = craftUki(BASE.filter((s) => s.name !== '.uname'));
    expect(handoff({ extraDir: [other] }, noUname).cmdline).toBe('root=/dev/vda  quiet z');
  });

  it('installs devicetrees: the UKI one, then addons (.dtbauto preferred only when it matches)', () => {
    const image = craftUki([...BASE, { name: '.dtb', data: 'DT0' }]);
    const both = addon([
      { name: '.dtb', data: 'DT1' },
      { name: '.dtbauto', data: 'AUTO' },
    ]);
    const h = handoff({ extraDir: [file('a.addon.efi', both)] }, image);
    expect(h.devicetrees.map(dec)).toEqual(['DT0', 'DT1']);
    const m = handoff({ extraDir: [file('a.addon.efi', both)], hardwareMatch: () => true }, image);
    expect(m.devicetrees.map(dec)).toEqual(['DT0', 'AUTO']);
    expect(m.addons[0]?.took).toEqual(['.dtbauto']);
  });
});

describe('initrd assembly', () => {
  const full = craftUki(
    [
      { name: '.osrel', data: 'ID=x\n' },
      { name: '.ucode', data: 'UC' },
      { name: '.initrd', data: 'BASE-INITRD' },
      { name: '.pcrsig', data: '{}' },
      { name: '.pcrpkey', data: 'PEM' },
      { name: '.linux', data: 'K' },
    ],
    [{ profile: 'ID=p0', sections: [] }],
  );
  const input: Omit<StubInput, 'uki'> = {
    loaderAddons: [
      file(
        'g1.addon.efi',
        addon([
          { name: '.ucode', data: 'GU1' },
          { name: '.initrd', data: 'GI1' },
        ]),
      ),
      file('g2.addon.efi', addon([{ name: '.ucode', data: 'GU2' }])),
    ],
    extraDir: [
      file(
        'u1.addon.efi',
        addon([
          { name: '.ucode', data: 'UU1' },
          { name: '.initrd', data: 'UI1' },
        ]),
      ),
      file('b.cred', 'cred-b'),
      file('a.cred', 'cred-a'),
      file('sys.raw', 'S'),
      file('conf.confext.raw', 'C'),
    ],
    loaderCredentials: [file('g.cred', 'G')],
    loaderExtensions: [file('gs.sysext.raw', 'GS'), file('gc.confext.raw', 'GC')],
    previousInitrd: enc('PREV'),
  };
  const h = stubHandoff({ uki: full, ...input });

  it('orders the pieces as the stub does', () => {
    expect(h.initrdPieces.map((p) => `${p.kind}${p.source ? `:${p.source}` : ''}`)).toEqual([
      'ucode-addon:u1.addon.efi',
      'ucode-addon:g2.addon.efi',
      'ucode-addon:g1.addon.efi',
      'ucode',
      'previous',
      'initrd',
      'credentials',
      'global-credentials',
      'sysext',
      'global-sysext',
      'confext',
      'global-confext',
      'pcrsig',
      'pcrpkey',
      'osrel',
      'profile',
      'initrd-addon:g1.addon.efi',
      'initrd-addon:u1.addon.efi',
    ]);
  });

  it('pads every piece to 4 bytes with zeros and concatenates them', () => {
    let at = 0;
    for (const p of h.initrdPieces) {
      expect(p.offset).toBe(at);
      expect(h.initrd!.subarray(at, at + p.data.length)).toEqual(p.data);
      const padded = (p.data.length + 3) & ~3;
      expect([...h.initrd!.subarray(at + p.data.length, at + padded)].every((b) => b === 0)).toBe(true);
      at += padded;
    }
    expect(h.initrd!.length).toBe(at);
  });

  it('packs the sidecar archives under /.extra with the stub modes, files sorted', () => {
    const names = (kind: InitrdPieceKind) => {
      const piece = h.initrdPieces.find((p) => p.kind === kind)!;
      return readCpio(piece.data).entries.map((e) => `${e.name} ${e.permissions.toString(8)}`);
    };
    expect(names('credentials')).toEqual([
      '.extra 555',
      '.extra/credentials 500',
      '.extra/credentials/a.cred 400',
      '.extra/credentials/b.cred 400',
    ]);
    expect(names('sysext')).toEqual(['.extra 555', '.extra/sysext 555', '.extra/sysext/sys.raw 444']);
    expect(names('global-confext')).toEqual([
      '.extra 555',
      '.extra/global_confext 555',
      '.extra/global_confext/gc.confext.raw 444',
    ]);
    expect(names('profile')).toEqual(['.extra 555', '.extra/profile 444']);
    const osrel = readCpio(h.initrdPieces.find((p) => p.kind === 'osrel')!.data).entries.at(-1)!;
    expect([osrel.name, dec(osrel.data)]).toEqual(['.extra/os-release', 'ID=x\n']);
  });

  it('hands over a single piece as it is, and no initrd at all when there is nothing', () => {
    const one = handoff(
      {},
      craftUki([
        { name: '.initrd', data: 'ABCDE' },
        { name: '.linux', data: 'K' },
      ]),
    );
    expect(dec(one.initrd)).toBe('ABCDE');
    const none = handoff({}, craftUki([{ name: '.linux', data: 'K' }]));
    expect(none.initrd).toBeUndefined();
    expect(none.initrdPieces).toEqual([]);
    expect(combineInitrds([enc('A'), enc('BC')]).data).toEqual(new Uint8Array([0x41, 0, 0, 0, 0x42, 0x43, 0, 0]));
  });

  it('leaves out empty pieces (a .initrd with VirtualSize 0, an empty previous initrd)', () => {
    const h2 = handoff(
      { previousInitrd: new Uint8Array(0) },
      craftUki([
        { name: '.initrd', data: '', virtualSize: 0 },
        { name: '.linux', data: 'K' },
      ]),
    );
    expect(h2.initrd).toBeUndefined();
  });
});

describe('profiles end to end', () => {
  const multi = craftUki(
    [
      { name: '.osrel', data: 'ID=base' },
      { name: '.cmdline', data: 'base' },
      { name: '.initrd', data: 'BASE' },
      { name: '.linux', data: 'K0' },
    ],
    [
      { profile: 'ID=default', sections: [] },
      {
        profile: 'ID=rescue',
        sections: [
          { name: '.cmdline', data: 'rescue' },
          { name: '.initrd', data: 'RESCUE' },
        ],
      },
    ],
  );
  it('@1 replaces .cmdline and .initrd and writes its .profile', () => {
    const h = stubHandoff({ uki: multi, loadOptions: '@1' });
    expect([h.profile, h.cmdline, dec(h.kernel)]).toEqual([1, 'rescue', 'K0']);
    expect(h.initrdPieces.map((p) => p.kind)).toEqual(['initrd', 'osrel', 'profile']);
    expect(dec(h.initrdPieces[0]!.data)).toBe('RESCUE');
    expect(dec(readCpio(h.initrdPieces[2]!.data).entries.at(-1)!.data)).toBe('ID=rescue');
  });
  it('@7 is fatal', () => {
    expect(() => stubHandoff({ uki: multi, loadOptions: '@7' })).toThrow(UkiError);
    try {
      stubHandoff({ uki: multi, loadOptions: '@7 x' });
    } catch (e) {
      expect((e as UkiError).code).toBe(UKI_ERROR.PROFILE_NOT_FOUND);
    }
  });
});

describe('properties over generated UKIs', () => {
  const NAMES = ['.osrel', '.cmdline', '.initrd', '.ucode', '.pcrsig', '.pcrpkey', '.uname', '.splash'] as const;
  const bytes = fc.uint8Array({ minLength: 1, maxLength: 9 });
  const range = fc
    .subarray([...NAMES])
    .chain((names) => fc.tuple(...names.map((n) => bytes.map((data) => ({ name: n, data }) as Sec))));
  const gen = fc.record({
    base: range,
    kernel: bytes,
    profiles: fc.array(fc.tuple(bytes, range, fc.option(bytes, { nil: undefined })), { maxLength: 3 }),
    pick: fc.nat(),
    custom: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
    secureBoot: fc.boolean(),
    addons: fc.array(
      fc.tuple(
        fc.constantFrom('a', 'b', 'c', 'd'),
        fc.option(bytes, { nil: undefined }),
        fc.option(bytes, { nil: undefined }),
        fc.option(fc.string({ maxLength: 6 }), { nil: undefined }),
      ),
      { maxLength: 4 },
    ),
  });

  it('hand the kernel, command line and initrd the rules say', () => {
    fc.assert(
      fc.property(gen, (g) => {
        const profiles = g.profiles.map(([profile, sections, kernel]) => ({
          profile: new TextDecoder().decode(profile) || 'p',
          sections: kernel ? [...sections, { name: '.linux', data: kernel }] : sections,
        }));
        const image = craftUki([...g.base, { name: '.linux', data: g.kernel }], profiles);
        const n = Math.max(1, profiles.length);
        const profile = g.pick % n;
        const extraDir = g.addons.map(([name, initrd, ucode, text], i) => {
          const sections: Sec[] = [
            ...(initrd ? [{ name: '.initrd', data: initrd }] : []),
            ...(ucode ? [{ name: '.ucode', data: ucode }] : []),
            ...(text !== undefined ? [{ name: '.cmdline', data: text || ' ' }] : []),
          ];
          return file(`${name}${i}.addon.efi`, addon(sections.length ? sections : [{ name: '.sbat', data: 'x' }]));
        });
        const custom = g.custom?.replace(/[\0-\x1f]/g, '');
        const loadOptions = `@${profile}${custom === undefined ? '' : ` ${custom}`}`;
        const h = stubHandoff({ uki: image, loadOptions, secureBoot: g.secureBoot, extraDir });

        // The view: the profile's first section of a name, else the base one.
        const own = profiles[profile]?.sections ?? [];
        const pick = (name: string) =>
          (
            own.find((s) => s.name === name) ??
            [...g.base, { name: '.linux', data: g.kernel }].find((s) => s.name === name)
          )?.data as Uint8Array | undefined;
        expect(h.profile).toBe(profile);
        expect(h.kernel).toEqual(pick('.linux'));

        // Command line: custom unless empty or dropped, then the addon lines in sorted order.
        const sectionCmdline = pick('.cmdline');
        const mangledCustom = mangleCmdline(custom ?? '');
        const dropped = mangledCustom !== '' && g.secureBoot && sectionCmdline !== undefined;
        const head =
          mangledCustom !== '' && !dropped
            ? mangledCustom
            : sectionCmdline
              ? mangleCmdline(new TextDecoder().decode(sectionCmdline).replace(/\0.*/s, ''))
              : '';
        expect(h.customCmdlineDropped).toBe(dropped);
        if (/^[\x20-\x7e]*$/.test(head)) expect(h.cmdline.startsWith(head)).toBe(true);
        expect(h.cmdline).toBe(mangleCmdline(h.cmdline));

        // Initrd: kinds in the stub's order, padded concatenation, base pieces from the view.
        const kinds = h.initrdPieces.map((p) => ORDER.indexOf(p.kind));
        expect(kinds).toEqual([...kinds].sort((a, b) => a - b));
        const total = h.initrdPieces.reduce(
          (s, p) => s + (h.initrdPieces.length > 1 ? (p.data.length + 3) & ~3 : p.data.length),
          0,
        );
        expect(h.initrd?.length ?? 0).toBe(total);
        expect(h.initrdPieces.find((p) => p.kind === 'initrd')?.data).toEqual(pick('.initrd'));
        expect(h.initrdPieces.find((p) => p.kind === 'ucode')?.data).toEqual(pick('.ucode'));
        expect(h.initrdPieces.some((p) => p.kind === 'profile')).toBe(profiles.length > 0);
        const ucodeAddons = h.initrdPieces.filter((p) => p.kind === 'ucode-addon').map((p) => p.source);
        const initrdAddons = h.initrdPieces.filter((p) => p.kind === 'initrd-addon').map((p) => p.source);
        expect(ucodeAddons).toEqual([...ucodeAddons].sort().reverse());
        expect(initrdAddons).toEqual([...initrdAddons].sort());
      }),
      { numRuns: 150 },
    );
  });
});

describe('bad input', () => {
  const image = craftUki(
    [...BASE, { name: '.initrd', data: 'INITRD' }],
    [{ profile: 'ID=a', sections: [{ name: '.cmdline', data: 'p' }] }],
  );
  const good = addon([
    { name: '.cmdline', data: 'x' },
    { name: '.initrd', data: 'y' },
  ]);

  it('throws only UkiError for mutated UKIs and skips mutated addons, never crashing', () => {
    const mutate = (bytes: Uint8Array, edits: readonly [number, number][]) => {
      const out = bytes.slice();
      for (const [at, v] of edits) out[at % out.length] = v;
      return out;
    };
    const edits = fc.array(fc.tuple(fc.nat({ max: 0x800 }), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 6,
    });
    fc.assert(
      fc.property(edits, edits, fc.constantFrom('', '@1 a', '@0'), (e1, e2, loadOptions) => {
        const extraDir = [file('a.addon.efi', mutate(good, e2))];
        try {
          const h = stubHandoff({ uki: mutate(image, e1), loadOptions, extraDir });
          expect(h.addons).toHaveLength(1);
        } catch (e) {
          expect(e).toBeInstanceOf(UkiError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('skips an addon whose section cannot be mapped', () => {
    // .initrd (second header at 0x1b0) with a 272 MiB VirtualSize, and SizeOfImage (0xd0) to match.
    const huge = patched(good, [
      [0x1b0 + 8, 4, 0x11000000],
      [0xd0, 4, 0x20000000],
    ]);
    const h = handoff({ extraDir: [file('a.addon.efi', huge)] });
    expect(h.addons[0]?.skipped).toBe('UNLOADABLE');
    expect(
      handoff({ extraDir: [file('a.addon.efi', patched(good, [[0x188 + 8, 4, 0x7fffffff]]))] }).addons[0]?.skipped,
    ).toBe('NOT_NATIVE_PE');
  });
});
