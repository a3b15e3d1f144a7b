import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCertificates, loadPrivateKey, signImage, verifyImage } from '../../formats/authenticode/index.ts';
import {
  PE_ERROR,
  PeError,
  type PeImage,
  peChecksum,
  readPe,
  removeSection,
  SCN,
  sectionData,
  stripSignatures,
  upsertSection,
} from '../../formats/pe/index.ts';
import { missingTool } from '../support/env.ts';
import { missingFixture, readFixture, testKeys } from '../support/fixtures.ts';
import { buildPe, patched } from './pe-build.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ukibpf-pe-write-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tool = (cmd: string, ...args: string[]): { status: number | null; out: string } => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
};

const peError = (f: () => unknown): PeError => {
  try {
    f();
  } catch (e) {
    if (e instanceof PeError) return e;
    throw e;
  }
  throw new Error('no PeError');
};

/** Byte equality for large buffers (vitest's deep equality walks typed arrays element by element). */
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

const payload = (n: number, seed = 1): Uint8Array => new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);

/** `objdump -h` rows: name, size, VMA, file offset. */
const objdumpSections = (file: string): { name: string; size: number; vma: number; offset: number }[] => {
  const r = tool('objdump', '-h', file);
  expect(r.status, r.out).toBe(0);
  return [...r.out.matchAll(/^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)/gm)].map((m) => ({
    name: m[1]!,
    size: Number.parseInt(m[2]!, 16),
    vma: Number.parseInt(m[3]!, 16),
    offset: Number.parseInt(m[4]!, 16),
  }));
};

/** Every original section's bytes are still there, under the same name and VA. */
const expectSectionsKept = (before: PeImage, after: PeImage, except: string[] = []): void => {
  for (const s of before.sections.filter((x) => !except.includes(x.name))) {
    const t = after.sections.find((x) => x.name === s.name)!;
    expect(t.virtualAddress).toBe(s.virtualAddress);
    expect(same(sectionData(after, t), sectionData(before, s)), s.name).toBe(true);
  }
};

describe('upsertSection on the real systemd 252 stub', () => {
  it('adds .bpf where objdump and llvm-readobj see it, keeps the COFF symbol table after it, and sbsign can sign', (ctx) => {
    const why = missingFixture('stub') ?? missingTool('objdump', 'llvm-readobj', 'sbsign', 'sbverify', 'openssl');
    if (why) ctx.skip(why);
    const stub = readFixture('stub');
    const copy = stub.slice();
    const before = readPe(stub);
    const bpf = payload(5000);
    const out = upsertSection(stub, { name: '.bpf', data: bpf });
    expect(stub).toEqual(copy);
    const img = readPe(out);
    const s = img.sections.at(-1)!;
    const last = before.sections.at(-1)!;
    const sa = before.optional.sectionAlignment;
    const fa = before.optional.fileAlignment;
    expect(s).toMatchObject({
      name: '.bpf',
      virtualSize: bpf.length,
      virtualAddress:
        Math.ceil(Math.max(last.virtualAddress + last.virtualSize, before.optional.sizeOfImage) / sa) * sa,
      pointerToRawData: before.rawDataEnd,
      sizeOfRawData: Math.ceil(bpf.length / fa) * fa,
      characteristics: SCN.MEM_READ | SCN.CNT_INITIALIZED_DATA,
    });
    expect(sectionData(img, s)).toEqual(bpf);
    expect(img.coff.numberOfSections).toBe(before.coff.numberOfSections + 1);
    expect(img.optional.sizeOfImage).toBe(Math.ceil((s.virtualAddress + s.virtualSize) / sa) * sa);
    expect(img.optional.sizeOfInitializedData).toBe(before.optional.sizeOfInitializedData + bpf.length);
    expect(img.optional.checkSum).toBe(peChecksum(out, img.offsets.checkSum));
    expectSectionsKept(before, img);
    // The symbol table moved behind the new raw data, byte for byte, and its pointer followed it.
    expect(img.trailingData.offset).toBe(s.pointerToRawData + s.sizeOfRawData);
    expect(out.subarray(img.trailingData.offset)).toEqual(stub.subarray(before.trailingData.offset));
    expect(img.coff.pointerToSymbolTable).toBe(img.trailingData.offset);

    const file = join(dir, 'stub-bpf.efi');
    writeFileSync(file, out);
    const listed = objdumpSections(file).at(-1)!;
    expect(listed).toEqual({ name: '.bpf', size: bpf.length, vma: s.virtualAddress, offset: s.pointerToRawData });
    const readobj = tool('llvm-readobj', '--sections', file);
    expect(readobj.out).toContain('Name: .bpf (2E 62 70 66 00 00 00 00)');
    expect(readobj.out).toContain(`VirtualAddress: 0x${s.virtualAddress.toString(16).toUpperCase()}`);
    // objdump still finds every COFF symbol at the moved PointerToSymbolTable.
    const symbolLines = (f: string): string[] =>
      tool('objdump', '-t', f)
        .out.split('\n')
        .filter((l) => l.startsWith('['));
    const stubFile = join(dir, 'stub.efi');
    writeFileSync(stubFile, stub);
    expect(symbolLines(file)).toEqual(symbolLines(stubFile));
    expect(symbolLines(file).length).toBeGreaterThan(100);

    const keys = testKeys();
    const signed = join(dir, 'stub-bpf.signed.efi');
    const sb = tool('sbsign', '--key', keys.rsa.key, '--cert', keys.rsa.cert, '--output', signed, file);
    expect(sb.status, sb.out).toBe(0);
    expect(tool('sbverify', '--cert', keys.rsa.cert, signed).status).toBe(0);
    const ours = verifyImage(new Uint8Array(readFileSync(signed)), loadCertificates(readFileSync(keys.rsa.cert)));
    expect(ours.ok, JSON.stringify(ours)).toBe(true);
  });

  it('replaces .bpf in place when it fits before the next section, and moves it to the end when it does not', (ctx) => {
    const why = missingFixture('stub');
    if (why) ctx.skip(why);
    const stub = readFixture('stub');
    const first = readPe(upsertSection(stub, { name: '.bpf', data: payload(3000) }));
    const smaller = readPe(upsertSection(first.bytes, { name: '.bpf', data: payload(100, 7) }));
    expect(smaller.sections.length).toBe(first.sections.length);
    expect(smaller.sections.at(-1)).toMatchObject({
      name: '.bpf',
      virtualAddress: first.sections.at(-1)!.virtualAddress,
      virtualSize: 100,
    });
    expect(sectionData(smaller, smaller.sections.at(-1)!)).toEqual(payload(100, 7));
    // The last section may grow in place (nothing after it in memory).
    const bigger = readPe(upsertSection(first.bytes, { name: '.bpf', data: payload(70000, 3) }));
    expect(bigger.sections.at(-1)).toMatchObject({
      name: '.bpf',
      virtualAddress: first.sections.at(-1)!.virtualAddress,
    });
    expect(sectionData(bigger, bigger.sections.at(-1)!)).toEqual(payload(70000, 3));
    expect(bigger.bytes.subarray(bigger.trailingData.offset)).toEqual(first.bytes.subarray(first.trailingData.offset));
    // .sbat is followed in memory by .sdmagic 0x100 bytes later: a 0x180-byte .sbat must move to the end.
    const before = readPe(stub);
    const sbat = readPe(upsertSection(stub, { name: '.sbat', data: payload(0x180, 9) }));
    expect(sbat.sections.map((s) => s.name)).toEqual([
      ...before.sections.map((s) => s.name).filter((n) => n !== '.sbat'),
      '.sbat',
    ]);
    expect(sbat.sections.at(-1)!.virtualAddress).toBeGreaterThanOrEqual(before.optional.sizeOfImage);
    expect(sbat.sections.at(-1)!.characteristics).toBe(
      before.sections.find((s) => s.name === '.sbat')!.characteristics,
    );
    expectSectionsKept(before, sbat, ['.sbat']);
  });

  it('grows the headers when the section table is full, moving all raw data and the symbol table', (ctx) => {
    const why = missingFixture('stub') ?? missingTool('objdump');
    if (why) ctx.skip(why);
    const stub = readFixture('stub');
    const before = readPe(stub);
    const room = Math.floor((before.optional.sizeOfHeaders - before.offsets.sectionTableEnd) / 40);
    let out = stub;
    const names: string[] = [];
    for (let i = 0; i < room + 3; i++) {
      names.push(`.x${i}`);
      out = upsertSection(out, { name: `.x${i}`, data: payload(700 + i, i) });
    }
    const img = readPe(out);
    expect(img.optional.sizeOfHeaders).toBeGreaterThan(before.optional.sizeOfHeaders);
    expect(img.optional.sizeOfHeaders % img.optional.fileAlignment).toBe(0);
    expectSectionsKept(before, img);
    for (const [i, n] of names.entries()) {
      expect(sectionData(img, img.sections.find((s) => s.name === n)!)).toEqual(payload(700 + i, i));
    }
    expect(out.subarray(img.coff.pointerToSymbolTable)).toEqual(stub.subarray(before.coff.pointerToSymbolTable));
    const file = join(dir, 'stub-many.efi');
    writeFileSync(file, out);
    expect(objdumpSections(file).map((s) => s.name)).toEqual(img.sections.map((s) => s.name));
  });

  it('removes a section and keeps every other one at its VA', (ctx) => {
    const why = missingFixture('stub');
    if (why) ctx.skip(why);
    const stub = readFixture('stub');
    const before = readPe(stub);
    const img = readPe(removeSection(stub, '.sbat'));
    expect(img.sections.map((s) => s.name)).not.toContain('.sbat');
    expectSectionsKept(before, img, ['.sbat']);
  });
});

describe('the writer on built images', () => {
  it('moves an EFI zboot payload offset along with the raw data when the headers grow', () => {
    const text = payload(0x2000, 5);
    const probe = buildPe({ sections: [{ name: '.text', data: text, characteristics: 0x60000020 }] });
    const payloadOffset = probe.at.sections[0]!.raw + 0x100;
    const { bytes } = buildPe({
      sections: [{ name: '.text', data: text, characteristics: 0x60000020 }],
      zboot: { payloadOffset, payloadSize: 0x800 },
      // A full header: the section table ends exactly at SizeOfHeaders.
      sizeOfHeaders: 0x200,
      eLfanew: 0x200 - 24 - 240 - 40,
    });
    const before = readPe(bytes);
    expect(before.offsets.sectionTableEnd).toBe(before.optional.sizeOfHeaders);
    const out = upsertSection(bytes, { name: '.bpf', data: payload(10) });
    const img = readPe(out);
    const moved = img.optional.sizeOfHeaders - before.optional.sizeOfHeaders;
    expect(moved).toBeGreaterThan(0);
    const newOffset = new DataView(out.buffer).getUint32(8, true);
    expect(newOffset).toBe(payloadOffset + moved);
    expect(out.subarray(newOffset, newOffset + 0x800)).toEqual(bytes.subarray(payloadOffset, payloadOffset + 0x800));
  });

  it('refuses to grow the headers of an x86 bzImage (position-dependent setup code)', () => {
    const { bytes } = buildPe({ sizeOfHeaders: 0x400, eLfanew: 0x400 - 24 - 240 - 80 });
    const bz = bytes.slice();
    // A bzImage: the boot-sector flag 0xaa55 at 0x1fe and "HdrS" at 0x202.
    bz.set([0x55, 0xaa], 0x1fe);
    bz.set(new TextEncoder().encode('HdrS'), 0x202);
    expect(peError(() => upsertSection(bz, { name: '.bpf', data: payload(10) })).code).toBe(PE_ERROR.NO_HEADER_ROOM);
    expect(() => upsertSection(bytes, { name: '.bpf', data: payload(10) })).not.toThrow();
  });

  it('refuses names over 8 bytes, gaps between sections and unused-looking header slack in use', () => {
    const { bytes, at } = buildPe();
    expect(peError(() => upsertSection(bytes, { name: '.toolongname', data: payload(1) })).code).toBe(
      PE_ERROR.SECTION_NAME_TOO_LONG,
    );
    // Leave a 0x200 gap before .data by moving it (and growing the file).
    const gap = new Uint8Array(bytes.length + 0x200);
    gap.set(bytes);
    gap.set(bytes.subarray(at.sections[1]!.raw), at.sections[1]!.raw + 0x200);
    const gapped = patched(gap, [[at.sections[1]!.header + 20, 4, at.sections[1]!.raw + 0x200]]);
    expect(peError(() => upsertSection(gapped, { name: '.bpf', data: payload(1) })).code).toBe(
      PE_ERROR.UNSUPPORTED_LAYOUT,
    );
    const slack = patched(bytes, [[at.sectionTable + 2 * 40 + 4, 1, 0x55]]);
    expect(peError(() => upsertSection(slack, { name: '.bpf', data: payload(1) })).code).toBe(PE_ERROR.NO_HEADER_ROOM);
  });

  it('adds sections to PE32 images too', () => {
    const { bytes } = buildPe({ format: 'PE32' });
    const img = readPe(upsertSection(bytes, { name: '.bpf', data: payload(99) }));
    expect(img.optional.format).toBe('PE32');
    expect(sectionData(img, img.sections.at(-1)!)).toEqual(payload(99));
  });
});

describe('signed images', () => {
  it('refuses to modify a signed image unless asked to strip the signatures', (ctx) => {
    const why = missingFixture('stub') ?? missingTool('openssl');
    if (why) ctx.skip(why);
    const keys = testKeys();
    const signed = signImage(readFixture('stub'), {
      key: loadPrivateKey(readFileSync(keys.ec.key)),
      certificate: loadCertificates(readFileSync(keys.ec.cert))[0]!,
    });
    expect(peError(() => upsertSection(signed, { name: '.bpf', data: payload(10) }))).toMatchObject({
      code: PE_ERROR.SIGNED_IMAGE,
      offset: readPe(signed).offsets.securityDirectory,
    });
    const img = readPe(upsertSection(signed, { name: '.bpf', data: payload(10) }, { stripSignatures: true }));
    expect(img.certificateTable).toBeUndefined();
    expect(img.sections.at(-1)!.name).toBe('.bpf');
  });

  it('strips the Debian kernel cleanly, and refuses to squeeze a header into its setup area', (ctx) => {
    const why = missingFixture('kernel') ?? missingTool('sbverify');
    if (why) ctx.skip(why);
    const kernel = readFixture('kernel');
    const signed = readPe(kernel);
    expect(peError(() => upsertSection(kernel, { name: '.bpf', data: payload(10) })).code).toBe(PE_ERROR.SIGNED_IMAGE);
    const stripped = stripSignatures(kernel);
    const img = readPe(stripped);
    expect(img.certificateTable).toBeUndefined();
    expect(stripped.length).toBe(signed.certificateTable!.offset);
    expect(img.optional.checkSum).toBe(peChecksum(stripped, img.offsets.checkSum));
    // Only CheckSum and the directory entry differ, then the file ends where the table began.
    const cs = img.offsets.checkSum;
    const sd = img.offsets.securityDirectory!;
    expect(same(stripped.subarray(0, cs), kernel.subarray(0, cs))).toBe(true);
    expect(same(stripped.subarray(cs + 4, sd), kernel.subarray(cs + 4, sd))).toBe(true);
    expect(same(stripped.subarray(sd + 8), kernel.subarray(sd + 8, stripped.length))).toBe(true);
    const file = join(dir, 'vmlinuz.unsigned');
    writeFileSync(file, stripped);
    expect(tool('sbverify', '--list', file).out).toMatch(/No signature table present/);
    // Right after its section table a bzImage has 0xff filler up to the setup header at 0x1f1: in use.
    expect(peError(() => upsertSection(stripped, { name: '.bpf', data: payload(10) })).code).toBe(
      PE_ERROR.NO_HEADER_ROOM,
    );
  });
});
