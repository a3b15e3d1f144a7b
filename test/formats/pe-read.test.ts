import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PE_ERROR, PeError, type PeErrorCode, peChecksum, readPe, sectionData } from '../../formats/pe/index.ts';
import { missingTool } from '../support/env.ts';
import { fixturePath, missingFixture, readFixture } from '../support/fixtures.ts';
import { buildPe, coffSymbols, patched } from './pe-build.ts';

const peError = (f: () => unknown): PeError => {
  try {
    f();
  } catch (e) {
    if (e instanceof PeError) return e;
    throw e;
  }
  throw new Error('no PeError');
};

/** `llvm-readobj --sections` as records of the fields we compare. */
const readobjSections = (file: string): Record<string, string | number>[] => {
  const r = spawnSync('llvm-readobj', ['--sections', file], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout
    .split(/\n\s*Section \{/)
    .slice(1)
    .map((block) => {
      const field = (name: string): number => Number(new RegExp(`\\b${name}: (0x[0-9A-Fa-f]+|\\d+)`).exec(block)![1]);
      return {
        name: /Name: (\S+)/.exec(block)![1]!,
        virtualSize: field('VirtualSize'),
        virtualAddress: field('VirtualAddress'),
        sizeOfRawData: field('RawDataSize'),
        pointerToRawData: field('PointerToRawData'),
        characteristics: Number(/Characteristics \[ \((0x[0-9A-Fa-f]+)\)/.exec(block)![1]),
      };
    });
};

describe('readPe on real Debian images', () => {
  it('lists the systemd 252 stub sections exactly as llvm-readobj does', (ctx) => {
    const why = missingFixture('stub') ?? missingTool('llvm-readobj');
    if (why) ctx.skip(why);
    const img = readPe(readFixture('stub'));
    const ours = img.sections.map(
      ({ name, virtualSize, virtualAddress, sizeOfRawData, pointerToRawData, characteristics }) => ({
        name,
        virtualSize,
        virtualAddress,
        sizeOfRawData,
        pointerToRawData,
        characteristics,
      }),
    );
    expect(ours).toEqual(readobjSections(fixturePath('stub')));
    expect(ours.map((s) => s.name)).toEqual([
      '.text',
      '.reloc',
      '.data',
      '.dynamic',
      '.rela',
      '.dynsym',
      '.sbat',
      '.sdmagic',
    ]);
    // The COFF symbol and string tables sit after the last section, up to EOF.
    expect(img.symbolTable).toEqual(img.trailingData);
    expect(img.trailingData.offset + img.trailingData.size).toBe(img.bytes.length);
    expect(img.certificateTable).toBeUndefined();
    expect(new TextDecoder().decode(sectionData(img, img.sections[7]!))).toMatch(/^#### LoaderInfo: systemd-stub 252/);
    expect(peChecksum(img.bytes, img.offsets.checkSum)).toBe(img.optional.checkSum);
  });

  it('reads the signed Debian kernel: 6 data directories, certificate table at EOF, stored checksum', (ctx) => {
    const why = missingFixture('kernel') ?? missingTool('llvm-readobj');
    if (why) ctx.skip(why);
    const img = readPe(readFixture('kernel'));
    expect(img.optional.format).toBe('PE32+');
    expect(img.optional.numberOfRvaAndSizes).toBe(6);
    expect(img.sections.map((s) => s.name)).toEqual(['.setup', '.compat', '.text', '.data']);
    expect(img.certificateTable).toBeDefined();
    expect(img.certificateTable!.offset + img.certificateTable!.size).toBe(img.bytes.length);
    expect(img.trailingData.size).toBe(0);
    expect(peChecksum(img.bytes, img.offsets.checkSum)).toBe(img.optional.checkSum);
    expect(img.sections.map((s) => s.name)).toEqual(readobjSections(fixturePath('kernel')).map((s) => s.name));
  });
});

describe('readPe on built images', () => {
  it('reads PE32 and PE32+ images it did not write', () => {
    for (const format of ['PE32', 'PE32+'] as const) {
      const { bytes, at } = buildPe({ format });
      const img = readPe(bytes);
      expect(img.optional.format).toBe(format);
      expect(img.sections.map((s) => [s.name, s.virtualAddress, s.pointerToRawData])).toEqual([
        ['.text', at.sections[0]!.va, at.sections[0]!.raw],
        ['.data', at.sections[1]!.va, at.sections[1]!.raw],
      ]);
      expect(img.offsets.securityDirectory).toBe(at.dataDirectories + 32);
    }
  });

  it('resolves "/N" section names through the COFF string table', () => {
    const probe = buildPe();
    const symbols = coffSymbols(2, ['.a_long_section_name']);
    const { bytes } = buildPe({
      sections: [{ name: '/4', data: new Uint8Array(16) }],
      trailing: symbols,
      symbols: { pointer: probe.at.sections[0]!.raw + 0x200, count: 2 },
    });
    expect(readPe(bytes).sections[0]!.name).toBe('.a_long_section_name');
    const bad = buildPe({ sections: [{ name: '/99', data: new Uint8Array(16) }] });
    expect(peError(() => readPe(bad.bytes))).toMatchObject({
      code: PE_ERROR.BAD_SECTION_NAME,
      offset: bad.at.sections[0]!.header,
    });
  });

  const { bytes, at } = buildPe();
  const text = at.sections[0]!;
  const data = at.sections[1]!;
  const o = at.optional;
  const cases: [string, Uint8Array, PeErrorCode, number][] = [
    ['truncated DOS header', bytes.slice(0, 0x20), PE_ERROR.TRUNCATED, 0],
    ['no MZ', patched(bytes, [[0, 2, 0]]), PE_ERROR.BAD_DOS_MAGIC, 0],
    ['e_lfanew inside the DOS header', patched(bytes, [[0x3c, 4, 0x10]]), PE_ERROR.BAD_E_LFANEW, 0x3c],
    ['e_lfanew past EOF', patched(bytes, [[0x3c, 4, 0xfffffff0]]), PE_ERROR.BAD_E_LFANEW, 0x3c],
    ['no PE signature', patched(bytes, [[0x80, 1, 0x51]]), PE_ERROR.BAD_PE_SIGNATURE, 0x80],
    ['unknown optional magic', patched(bytes, [[o, 2, 0x30b]]), PE_ERROR.BAD_OPTIONAL_MAGIC, o],
    [
      'optional header too small',
      patched(bytes, [[at.coff + 16, 2, 100]]),
      PE_ERROR.OPTIONAL_HEADER_TOO_SMALL,
      at.coff + 16,
    ],
    ['17 data directories', patched(bytes, [[o + 108, 4, 17]]), PE_ERROR.BAD_DATA_DIRECTORY_COUNT, o + 108],
    ['FileAlignment not a power of two', patched(bytes, [[o + 36, 4, 0x300]]), PE_ERROR.BAD_ALIGNMENT, o + 36],
    ['SectionAlignment below FileAlignment', patched(bytes, [[o + 32, 4, 0x100]]), PE_ERROR.BAD_ALIGNMENT, o + 32],
    ['SizeOfHeaders past EOF', patched(bytes, [[o + 60, 4, bytes.length + 1]]), PE_ERROR.BAD_SIZE_OF_HEADERS, o + 60],
    [
      'SizeOfHeaders before the section table',
      patched(bytes, [[o + 60, 4, 0x100]]),
      PE_ERROR.BAD_SIZE_OF_HEADERS,
      o + 60,
    ],
    ['65535 sections', patched(bytes, [[at.coff + 2, 2, 0xffff]]), PE_ERROR.TOO_MANY_SECTIONS, at.coff + 2],
    ['SizeOfImage below SizeOfHeaders', patched(bytes, [[o + 56, 4, 0x100]]), PE_ERROR.BAD_SIZE_OF_IMAGE, o + 56],
    [
      'raw data past EOF',
      patched(bytes, [[data.header + 16, 4, 0x10000]]),
      PE_ERROR.SECTION_OUT_OF_FILE,
      data.header + 16,
    ],
    [
      'raw data size overflowing',
      patched(bytes, [[data.header + 16, 4, 0xfffffe00]]),
      PE_ERROR.SECTION_OUT_OF_FILE,
      data.header + 16,
    ],
    [
      'raw data inside the headers',
      patched(bytes, [[data.header + 20, 4, 0x100]]),
      PE_ERROR.SECTION_IN_HEADERS,
      data.header + 20,
    ],
    [
      'overlapping raw data',
      patched(bytes, [[data.header + 20, 4, text.raw + 0x200]]),
      PE_ERROR.SECTIONS_OVERLAP_RAW,
      data.header + 20,
    ],
    [
      'overlapping VAs',
      patched(bytes, [[data.header + 12, 4, text.va + 0x100]]),
      PE_ERROR.SECTIONS_OVERLAP_VA,
      data.header + 12,
    ],
    [
      'VA inside the headers',
      patched(bytes, [[data.header + 12, 4, 0x100]]),
      PE_ERROR.SECTION_VA_IN_HEADERS,
      data.header + 12,
    ],
    [
      'VA beyond SizeOfImage',
      patched(bytes, [[data.header + 8, 4, 0x10000]]),
      PE_ERROR.SECTION_BEYOND_IMAGE,
      data.header + 8,
    ],
    [
      'VirtualSize wrapping 32 bits',
      patched(bytes, [[data.header + 8, 4, 0xffffffff]]),
      PE_ERROR.SECTION_BEYOND_IMAGE,
      data.header + 8,
    ],
    [
      'certificate table past EOF',
      patched(bytes, [
        [at.dataDirectories + 32, 4, bytes.length - 8],
        [at.dataDirectories + 36, 4, 0x100],
      ]),
      PE_ERROR.BAD_CERTIFICATE_TABLE,
      at.dataDirectories + 32,
    ],
    [
      'certificate table inside section data',
      patched(bytes, [
        [at.dataDirectories + 32, 4, data.raw],
        [at.dataDirectories + 36, 4, 8],
      ]),
      PE_ERROR.BAD_CERTIFICATE_TABLE,
      at.dataDirectories + 32,
    ],
    [
      'symbol table past EOF',
      patched(bytes, [
        [at.coff + 8, 4, bytes.length - 18],
        [at.coff + 12, 4, 2],
      ]),
      PE_ERROR.BAD_SYMBOL_TABLE,
      at.coff + 8,
    ],
  ];
  it.each(cases)('rejects %s with a typed error at the offending field', (_name, input, code, offset) => {
    expect(peError(() => readPe(input))).toMatchObject({ code, offset });
  });

  it('accepts what it rejects when the field is right (the cases are not vacuous)', () => {
    expect(() => readPe(bytes)).not.toThrow();
  });
});
