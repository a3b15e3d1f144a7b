import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readPe } from '../../formats/pe/index.ts';
import {
  ADDON_SBAT,
  buildUki,
  describeRanges,
  joinInitrds,
  mangleCmdline,
  mergeSbat,
  profileView,
  readAddon,
  readUki,
  scrapeUname,
  stripTrailingSymbolTable,
  stubHandoff,
  UKI_ERROR,
  UkiError,
  utf8ToUcs2,
  viewData,
} from '../../formats/uki/index.ts';
import { buildPe, coffSymbols, patched } from './pe-build.ts';
import { enc } from './uki-support.ts';

const dec = (b: Uint8Array | undefined): string | undefined => (b ? new TextDecoder().decode(b) : undefined);
const STUB_SBAT =
  'sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\nsystemd,1,The systemd Developers,systemd,252,https://systemd.io/\n';

/** A stub-shaped PE: code, the stub's own .sbat (room for 0x200 bytes) and .sdmagic. */
const stub = (trailing?: Uint8Array) =>
  buildPe({
    sections: [
      { name: '.text', data: new Uint8Array(0x40).fill(0xc3), characteristics: 0x60000020 },
      { name: '.sbat', data: enc(STUB_SBAT), virtualSize: 0x200 },
      { name: '.sdmagic', data: enc('#### LoaderInfo: systemd-stub 252 ####') },
    ],
    ...(trailing ? { trailing } : {}),
  });
const names = (bytes: Uint8Array) => readPe(bytes).sections.map((s) => s.name);
const section = (bytes: Uint8Array, name: string) => {
  const img = readPe(bytes);
  const s = img.sections.find((x) => x.name === name)!;
  return img.bytes.subarray(s.pointerToRawData, s.pointerToRawData + s.virtualSize);
};

/** A minimal bzImage-looking kernel with a kernel_version string. */
const kernel = (() => {
  const k = new Uint8Array(0x400);
  k.set(enc('HdrS'), 0x202);
  new DataView(k.buffer).setUint16(0x20e, 0x100, true);
  k.set(enc('6.1.0-56-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP\0'), 0x300);
  return k;
})();

describe('buildUki (ukify layout)', () => {
  const base = stub().bytes;
  const input = {
    stub: base,
    linux: kernel,
    initrds: [enc('ABCDE'), enc('FG')],
    cmdline: enc('console=ttyS0'),
    osRelease: enc('ID=test\n'),
    splash: enc('BM'),
    pcrpkey: enc('PEM'),
    microcode: enc('UC'),
    devicetree: enc('DTB'),
    sections: [{ name: '.bpf', data: enc('\x7fELF') }],
  };
  const out = buildUki(input);

  it('adds the sections in ukify order after the stub, .linux last, .sbat kept in place', () => {
    expect(names(out)).toEqual([
      '.text',
      '.sbat',
      '.sdmagic',
      '.osrel',
      '.cmdline',
      '.dtb',
      '.uname',
      '.splash',
      '.pcrpkey',
      '.initrd',
      '.ucode',
      '.bpf',
      '.linux',
    ]);
    expect(dec(section(out, '.uname'))).toBe('6.1.0-56-cloud-amd64');
    expect(section(out, '.initrd')).toEqual(enc('ABCDE\0\0\0FG\0\0')); // ukify pads the last one too
    expect(readPe(out).sections.find((s) => s.name === '.linux')!.characteristics).toBe(0x40000020); // CODE|READ, as ukify
    expect(readPe(out).sections.find((s) => s.name === '.osrel')!.characteristics).toBe(0x40000040);
  });

  it('merges SBAT: one header, the stub entries, then the default UKI entry', () => {
    expect(dec(section(out, '.sbat'))).toBe(
      `${STUB_SBAT}uki,1,UKI,uki,1,https://uapi-group.org/specifications/specs/unified_kernel_image/\n\0`,
    );
    expect(dec(mergeSbat([], ['sbat,1,x\na,1\n', 'not sbat\nb,2', 'sbat,1,y\nc,3']))).toBe(
      'sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\na,1\nc,3\n\0',
    );
  });

  it('moves .sbat to the end when the merged text outgrows its place, and refuses beyond the raw size', () => {
    // Like Debian's 252 stub: .sdmagic starts 0x100 bytes after .sbat, well inside .sbat's 0x200 raw bytes.
    const built = buildPe({
      sections: [
        { name: '.text', data: new Uint8Array(0x40) },
        { name: '.sbat', data: enc(STUB_SBAT) },
        { name: '.sdmagic', data: enc('x') },
      ],
    });
    const tight = patched(built.bytes, [[built.at.sections[2]!.header + 12, 4, built.at.sections[1]!.va + 0x100]]);
    const more = [`sbat,1,x\n${'vendor,1,Some Vendor,pkg,1,https://example.org/\n'.repeat(3)}`];
    expect(names(buildUki({ stub: tight, linux: kernel }))).toEqual(['.text', '.sbat', '.sdmagic', '.uname', '.linux']);
    expect(names(buildUki({ stub: tight, linux: kernel, sbat: more })).at(-1)).toBe('.sbat');
    const long = [`sbat,1,x\n${'e,1,long entry\n'.repeat(60)}`];
    expect(() => buildUki({ stub: tight, linux: kernel, sbat: long })).toThrow(UkiError);
  });

  it('gives the stub reference what was put in', () => {
    const h = stubHandoff({ uki: out });
    expect(h.kernel).toEqual(kernel);
    expect(h.cmdline).toBe('console=ttyS0');
    expect(h.initrdPieces.map((p) => p.kind)).toEqual(['ucode', 'initrd', 'pcrpkey', 'osrel']);
    expect(h.devicetrees.map(dec)).toEqual(['DTB']);
  });

  it('does not modify the stub and refuses duplicate extra sections', () => {
    expect(base).toEqual(stub().bytes);
    const dup = { ...input, sections: [{ name: '.cmdline', data: enc('x') }] };
    expect(() => buildUki(dup)).toThrow(expect.objectContaining({ code: UKI_ERROR.BAD_INPUT }));
  });

  it('drops a COFF symbol table at the end of the stub, as ukify does', () => {
    const sym = coffSymbols(3, ['a_long_symbol_name']);
    const withSymbols = stub(sym);
    const patchedStub = withSymbols.bytes.slice();
    new DataView(patchedStub.buffer).setUint32(withSymbols.at.coff + 8, withSymbols.at.trailing, true);
    new DataView(patchedStub.buffer).setUint32(withSymbols.at.coff + 12, 3, true);
    const stripped = stripTrailingSymbolTable(patchedStub);
    expect(stripped.length).toBe(withSymbols.at.trailing);
    expect(readPe(stripped).coff.pointerToSymbolTable).toBe(0);
    expect(names(buildUki({ stub: patchedStub, linux: kernel }))).toContain('.linux');
  });

  it('joins initrds like ukify (one as is, several padded)', () => {
    expect(joinInitrds([])).toBeUndefined();
    expect(joinInitrds([enc('ABC')])).toEqual(enc('ABC'));
    expect(joinInitrds([enc('A'), enc('B')])).toEqual(new Uint8Array([0x41, 0, 0, 0, 0x42, 0, 0, 0]));
  });

  it('scrapes .uname from a bzImage header only', () => {
    expect(scrapeUname(kernel)).toBe('6.1.0-56-cloud-amd64');
    expect(scrapeUname(new Uint8Array(0x400))).toBeUndefined();
  });
});

describe('profiles', () => {
  const base = stub().bytes;
  const p1 = buildUki({ stub: base, profile: enc('ID=rescue'), cmdline: enc('rescue') });
  const p2 = buildUki({ stub: base, profile: enc('ID=debug'), cmdline: enc('debug'), initrds: [enc('DBG')] });

  it('builds profile PEs with .profile first and the stub .sbat untouched', () => {
    expect(names(p1)).toEqual(['.text', '.sbat', '.sdmagic', '.profile', '.cmdline']);
    expect(dec(section(p1, '.sbat'))).toBe(dec(section(base, '.sbat')));
  });

  it('joins them after the base .profile, and the stub selects them with @N', () => {
    const uki = buildUki({
      stub: base,
      linux: kernel,
      cmdline: enc('normal'),
      profile: enc('ID=default'),
      joinProfiles: [p1, p2],
    });
    expect(describeRanges(readUki(uki))).toEqual({
      base: ['.text', '.sbat', '.sdmagic', '.cmdline', '.uname', '.linux'],
      profiles: [['.profile'], ['.profile', '.cmdline'], ['.profile', '.cmdline', '.initrd']],
    });
    expect(stubHandoff({ uki }).cmdline).toBe('normal');
    expect(stubHandoff({ uki, loadOptions: '@1' }).cmdline).toBe('rescue');
    const h2 = stubHandoff({ uki, loadOptions: '@2 extra' });
    expect([h2.cmdline, dec(h2.initrdPieces[0]!.data)]).toEqual(['extra', 'DBG']);
    const m = readUki(uki);
    expect(dec(viewData(m.pe, profileView(m, 2), '.profile'))).toBe('ID=debug');
  });

  it('refuses a joined PE without exactly one .profile', () => {
    const noProfile = buildUki({ stub: base, cmdline: enc('x') });
    expect(() => buildUki({ stub: base, linux: kernel, profile: enc('a'), joinProfiles: [noProfile] })).toThrow(
      expect.objectContaining({ code: UKI_ERROR.BAD_INPUT }),
    );
  });
});

describe('addons', () => {
  it('builds an addon with the addon SBAT that the stub reads', () => {
    const out = buildUki({ stub: stub().bytes, cmdline: enc('x=1'), uname: enc('6.1') });
    expect(dec(section(out, '.sbat'))).toBe(`${ADDON_SBAT}\0`);
    const a = readAddon(out);
    expect(dec(viewData(a.pe, a.view, '.cmdline'))).toBe('x=1');
  });
});

describe('round trip: what ukify-style building puts in, the stub reference hands over', () => {
  const base = stub().bytes;
  const blob = fc.uint8Array({ minLength: 1, maxLength: 40 });
  it('for random parts', () => {
    fc.assert(
      fc.property(
        fc.record({
          linux: blob,
          initrds: fc.array(blob, { maxLength: 3 }),
          cmdline: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
          osRelease: fc.option(blob, { nil: undefined }),
          microcode: fc.option(blob, { nil: undefined }),
        }),
        (g) => {
          const uki = buildUki({
            stub: base,
            linux: g.linux,
            initrds: g.initrds,
            ...(g.cmdline === undefined ? {} : { cmdline: enc(g.cmdline) }),
            ...(g.osRelease ? { osRelease: g.osRelease } : {}),
            ...(g.microcode ? { microcode: g.microcode } : {}),
          });
          const h = stubHandoff({ uki });
          expect(h.kernel).toEqual(g.linux);
          expect(h.cmdline).toBe(g.cmdline ? mangleCmdline(utf8ToUcs2(enc(g.cmdline))) : '');
          const initrd = h.initrdPieces.find((p) => p.kind === 'initrd');
          if (g.initrds.length === 1) expect(initrd?.data).toEqual(g.initrds[0]);
          expect(initrd?.data.length ?? 0).toBe(
            g.initrds.length > 1
              ? g.initrds.reduce((n, i) => n + ((i.length + 3) & ~3), 0)
              : (g.initrds[0]?.length ?? 0),
          );
          expect(h.initrdPieces.find((p) => p.kind === 'ucode')?.data).toEqual(g.microcode);
          expect(h.initrdPieces.some((p) => p.kind === 'osrel')).toBe(g.osRelease !== undefined);
        },
      ),
      { numRuns: 40 },
    );
  });
});
