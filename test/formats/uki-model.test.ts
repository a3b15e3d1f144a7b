import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describeRanges,
  mangleCmdline,
  profileView,
  readAddon,
  readUki,
  sectionNameIs,
  splitProfilePrefix,
  UKI_ERROR,
  UKI_SECTION_NAMES,
  UkiError,
  unameMatches,
  utf8ToUcs2,
  viewData,
} from '../../formats/uki/index.ts';
import { patched } from './pe-build.ts';
import { craftPe, craftUki, enc } from './uki-support.ts';

const dec = (b: Uint8Array | undefined): string | undefined => (b ? new TextDecoder().decode(b) : undefined);
const code = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof UkiError) return e.code;
    throw e;
  }
  return 'no error';
};

describe('section table of systemd-stub', () => {
  it('lists the 15 sections in the canonical (PCR 11) order', () => {
    expect(UKI_SECTION_NAMES).toEqual([
      '.linux',
      '.osrel',
      '.cmdline',
      '.initrd',
      '.ucode',
      '.splash',
      '.dtb',
      '.uname',
      '.sbat',
      '.pcrsig',
      '.pcrpkey',
      '.profile',
      '.dtbauto',
      '.hwids',
      '.efifw',
    ]);
  });
  it('compares names over 8 bytes, stopping at the wanted name', () => {
    expect(sectionNameIs(enc('.linux\0\0'), '.linux')).toBe(true);
    expect(sectionNameIs(enc('.linux\0x'), '.linux')).toBe(true);
    expect(sectionNameIs(enc('.linuxx\0'), '.linux')).toBe(false);
    expect(sectionNameIs(enc('.cmdlin\0'), '.cmdline')).toBe(false);
    expect(sectionNameIs(enc('.dtbauto'), '.dtbauto')).toBe(true);
  });
});

describe('stub string handling', () => {
  it.each([
    ['  quiet  splash \n', 'quiet  splash'],
    ['a\tb\nc\x7fd', 'a b c d'],
    ['\x01\x02', ''],
    ['x\0y', 'x'],
    ['é ü', 'é ü'],
  ])('mangles %j to %j', (input, out) => expect(mangleCmdline(input)).toBe(out));

  it.each([
    ['@1 quiet', 1, 'quiet'],
    ['@12', 12, ''],
    ['@0  two', 0, ' two'],
    ['@4294967295 x', 4294967295, 'x'],
    ['@4294967296 x', 0, '@4294967296 x'],
    ['@1x', 0, '@1x'],
    ['@ 1', 0, '@ 1'],
    ['@', 0, '@'],
    [' @1', 0, ' @1'],
    ['@1\tq', 0, '@1\tq'],
  ])('profile prefix of %j is @%d with rest %j', (input, profile, rest) => {
    expect(splitProfilePrefix(input)).toMatchObject({ profile, rest });
  });

  it('decodes UTF-8 as xstrn8_to_16: drops astral and bad sequences, stops at NUL and at n', () => {
    expect(utf8ToUcs2(enc('a😀b'))).toBe('ab');
    expect(utf8ToUcs2(new Uint8Array([0x61, 0xff, 0x62]))).toBe('ab');
    expect(utf8ToUcs2(new Uint8Array([0x61, 0xc3, 0x41, 0x62]))).toBe('ab'); // bad continuation eats 2 bytes
    expect(utf8ToUcs2(new Uint8Array([0x61, 0xc3]))).toBe('a'); // cut short
    expect(utf8ToUcs2(enc('ab\0cd'))).toBe('ab');
    expect(utf8ToUcs2(enc('abcd'), 2)).toBe('ab');
    expect(utf8ToUcs2(enc('\u00e9\u20ac'))).toBe('\u00e9\u20ac');
  });

  it('agrees with TextDecoder on valid BMP text without NUL', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
        const bmp = [...s]
          .filter((c) => c.codePointAt(0)! <= 0xffff && c !== '\0' && !/[\ud800-\udfff]/.test(c))
          .join('');
        expect(utf8ToUcs2(enc(bmp))).toBe(bmp);
      }),
      { numRuns: 100 },
    );
  });

  it('matches .uname with strncmp over the addon section size', () => {
    expect(unameMatches(enc('6.1.0-56'), enc('6.1.0-56'))).toBe(true);
    expect(unameMatches(enc('6.1.0-56'), enc('6.1.0-57'))).toBe(false);
    expect(unameMatches(enc('6.1.0-56'), enc('6.1'))).toBe(true); // a prefix without NUL matches
    expect(unameMatches(enc('6.1.0-56'), enc('6.1\0'))).toBe(false);
    expect(unameMatches(enc('6.1'), enc('6.1.0'))).toBe(false);
    expect(unameMatches(enc('6.1\0junk'), enc('6.1\0'))).toBe(true);
  });
});

describe('UKI model', () => {
  const uki = craftUki(
    [
      { name: '.osrel', data: 'ID=base' },
      { name: '.cmdline', data: 'base' },
      { name: '.linux', data: 'KERNEL' },
    ],
    [
      { profile: 'ID=p0', sections: [] },
      {
        profile: 'ID=p1',
        sections: [
          { name: '.cmdline', data: 'one' },
          { name: '.initrd', data: 'I1' },
        ],
      },
      {
        profile: 'ID=p2',
        sections: [
          { name: '.linux', data: 'K2' },
          { name: '.cmdline', data: '', virtualSize: 0 },
        ],
      },
    ],
  );
  const model = readUki(uki);

  it('splits base and profile ranges at each .profile', () => {
    expect(describeRanges(model)).toEqual({
      base: ['.text', '.osrel', '.cmdline', '.linux'],
      profiles: [['.profile'], ['.profile', '.cmdline', '.initrd'], ['.profile', '.linux', '.cmdline']],
    });
  });

  it('lets profile sections replace base ones, and keeps the rest from the base', () => {
    const v1 = profileView(model, 1);
    expect(dec(viewData(model.pe, v1, '.cmdline'))).toBe('one');
    expect(dec(viewData(model.pe, v1, '.initrd'))).toBe('I1');
    expect(dec(viewData(model.pe, v1, '.osrel'))).toBe('ID=base');
    expect(dec(viewData(model.pe, v1, '.profile'))).toBe('ID=p1');
    const v0 = profileView(model, 0);
    expect(dec(viewData(model.pe, v0, '.cmdline'))).toBe('base');
    expect(viewData(model.pe, v0, '.initrd')).toBeUndefined();
  });

  it('treats a profile section with VirtualSize 0 as replacing the base one with nothing', () => {
    const v2 = profileView(model, 2);
    expect(dec(viewData(model.pe, v2, '.linux'))).toBe('K2');
    expect(viewData(model.pe, v2, '.cmdline')).toBeUndefined();
  });

  it('refuses a profile that does not exist, but not @0 of a UKI without profiles', () => {
    expect(code(() => profileView(model, 3))).toBe(UKI_ERROR.PROFILE_NOT_FOUND);
    const plain = readUki(craftUki([{ name: '.linux', data: 'K' }]));
    expect(dec(viewData(plain.pe, profileView(plain, 0), '.linux'))).toBe('K');
    expect(code(() => profileView(plain, 1))).toBe(UKI_ERROR.PROFILE_NOT_FOUND);
  });

  it('takes the first section of a name in a range, even an empty one', () => {
    const m = readUki(
      craftUki([
        { name: '.cmdline', data: '', virtualSize: 0 },
        { name: '.cmdline', data: 'second' },
        { name: '.linux', data: 'K' },
        { name: '.linux', data: 'other' },
      ]),
    );
    const v = profileView(m, 0);
    expect(viewData(m.pe, v, '.cmdline')).toBeUndefined();
    expect(dec(viewData(m.pe, v, '.linux'))).toBe('K');
  });

  it('reads VirtualSize bytes, zero-filled past the raw data', () => {
    const m = readUki(craftUki([{ name: '.linux', data: 'AB', virtualSize: 6 }]));
    expect([...viewData(m.pe, profileView(m, 0), '.linux')!]).toEqual([0x41, 0x42, 0, 0, 0, 0]);
  });

  it('has typed errors for non-PE input, no .linux, and a profile view without .linux', () => {
    expect(code(() => readUki(enc('not a PE at all')))).toBe(UKI_ERROR.NOT_PE);
    expect(code(() => readUki(craftPe([{ name: '.cmdline', data: 'x' }])))).toBe(UKI_ERROR.NO_LINUX);
    const m = readUki(
      craftUki(
        [{ name: '.cmdline', data: 'x' }],
        [
          { profile: 'a', sections: [{ name: '.linux', data: 'K' }] },
          { profile: 'b', sections: [] },
        ],
      ),
    );
    expect(code(() => profileView(m, 1))).toBe(UKI_ERROR.NO_LINUX);
    expect(dec(viewData(m.pe, profileView(m, 0), '.linux'))).toBe('K');
  });
});

describe('addons', () => {
  it('reads an addon with the whole table searched, first match winning', () => {
    const a = readAddon(
      craftPe([
        { name: '.cmdline', data: 'a=1' },
        { name: '.profile', data: 'x' },
        { name: '.cmdline', data: 'a=2' },
      ]),
    );
    expect(dec(viewData(a.pe, a.view, '.cmdline'))).toBe('a=1');
  });
  it('refuses addons without payload and addons carrying a kernel', () => {
    expect(
      code(() =>
        readAddon(
          craftPe([
            { name: '.uname', data: '6.1' },
            { name: '.sbat', data: 's' },
          ]),
        ),
      ),
    ).toBe(UKI_ERROR.ADDON_EMPTY);
    expect(code(() => readAddon(craftPe([{ name: '.cmdline', data: '', virtualSize: 0 }])))).toBe(
      UKI_ERROR.ADDON_EMPTY,
    );
    expect(
      code(() =>
        readAddon(
          craftPe([
            { name: '.initrd', data: 'i' },
            { name: '.linux', data: 'K' },
          ]),
        ),
      ),
    ).toBe(UKI_ERROR.ADDON_HAS_LINUX);
    expect(code(() => readAddon(patched(craftPe([{ name: '.cmdline', data: 'x' }]), [[0, 2, 0]])))).toBe(
      UKI_ERROR.NOT_PE,
    );
  });
});
