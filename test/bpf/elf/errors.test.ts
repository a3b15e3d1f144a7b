/**
 * Malformed objects, each with the exact ElfError code, file offset and section the reader reports.
 * Built from a written sample by patching one field.
 */
import { describe, expect, it } from 'vitest';
import { BtfBuilder, type Btf, encodeBtf } from '../../../bpf/btf/index.ts';
import { ElfError, readElf, readObject, writeObject } from '../../../bpf/elf/index.ts';
import { sampleSpec } from './sample.ts';

const sample = writeObject(sampleSpec());
const elf = readElf(sample);
const section = (name: string) => elf.sections.find((s) => s.name === name)!;
const shoff = Number(new DataView(sample.buffer).getBigUint64(40, true));

/** A copy of the sample with `patch` applied through a little-endian DataView. */
const patched = (patch: (v: DataView, b: Uint8Array) => void, from: Uint8Array = sample): Uint8Array => {
  const b = from.slice();
  patch(new DataView(b.buffer), b);
  return b;
};

const rejection = (bytes: Uint8Array): ElfError => {
  try {
    readObject(bytes);
  } catch (e) {
    if (e instanceof ElfError) return e;
    throw e;
  }
  throw new Error('accepted');
};

describe('ElfError names what is wrong and where', () => {
  it('a version section turned NOBITS: a size but no bytes (found by the fuzzer)', () => {
    const withVersion = writeObject({ ...sampleSpec(), version: 0x60100 });
    const v = readElf(withVersion).sections.find((x) => x.name === 'version')!;
    const off = Number(new DataView(withVersion.buffer).getBigUint64(40, true)) + v.index * 64;
    const e = rejection(patched((dv) => dv.setUint32(off + 4, 8, true), withVersion));
    expect(e).toMatchObject({ code: 'BAD_SECTION', section: 'version' });
    expect(e.message).toContain('version section of 0 bytes');
  });

  it('a truncated header', () => {
    expect(rejection(sample.slice(0, 40))).toMatchObject({ code: 'TRUNCATED', offset: 0 });
    expect(rejection(sample.slice(0, 8))).toMatchObject({ code: 'TRUNCATED', offset: 0 });
  });

  it('not ELF, not 64-bit, not BPF', () => {
    expect(rejection(patched((v) => v.setUint8(1, 0x46)))).toMatchObject({ code: 'BAD_HEADER', offset: 0 });
    expect(rejection(patched((v) => v.setUint8(4, 1)))).toMatchObject({ code: 'BAD_HEADER', offset: 4 });
    expect(rejection(patched((v) => v.setUint8(5, 3)))).toMatchObject({ code: 'BAD_HEADER', offset: 5 });
    expect(rejection(patched((v) => v.setUint16(18, 62, true)))).toMatchObject({ code: 'NOT_BPF', offset: 18 });
    expect(rejection(patched((v) => v.setUint16(16, 2, true)))).toMatchObject({ code: 'NOT_BPF', offset: 16 });
  });

  it('a section table past the end of the file', () => {
    expect(rejection(sample.slice(0, shoff + 64))).toMatchObject({ code: 'TRUNCATED', offset: 60 });
    expect(rejection(patched((v) => v.setUint16(62, 99, true)))).toMatchObject({ code: 'BAD_SECTION', offset: 62 });
  });

  it('a section whose contents are out of range', () => {
    const xdp = section('xdp');
    const at = shoff + xdp.index * 64;
    const e = rejection(patched((v) => v.setUint32(at + 24, sample.length - 8, true)));
    expect(e).toMatchObject({ code: 'BAD_SECTION', offset: at + 24 });
    expect(e.message).toContain(`section [${xdp.index}]`);
    expect(rejection(patched((v) => v.setUint32(at + 36, 1, true)))).toMatchObject({
      code: 'BAD_SECTION',
      offset: at + 24,
    });
  });

  it('a bad name offset in the string table', () => {
    const symtab = section('.symtab');
    const e = rejection(patched((v) => v.setUint32(symtab.offset + 24, 0xffff, true)));
    expect(e).toMatchObject({ code: 'BAD_STRING', offset: symtab.offset + 24 });
  });

  it('a symbol in a section that does not exist', () => {
    const symtab = section('.symtab');
    expect(rejection(patched((v) => v.setUint16(symtab.offset + 24 + 6, 500, true)))).toMatchObject({
      code: 'BAD_SYMBOL',
      offset: symtab.offset + 24 + 6,
      section: '.symtab',
    });
  });

  it('a function symbol crossing its section', () => {
    const symtab = section('.symtab');
    const index = elf.symbols.findIndex((s) => s.name === 'xdp_count');
    const e = rejection(patched((v) => v.setUint32(symtab.offset + index * 24 + 16, 8 * 99, true)));
    expect(e).toMatchObject({ code: 'BAD_SYMBOL', section: 'xdp', offset: section('xdp').offset });
  });

  it('relocations: bad symbol index, past the section, off an instruction, wrong type', () => {
    const rel = section('.relxdp');
    expect(rejection(patched((v) => v.setUint32(rel.offset + 12, 999, true)))).toMatchObject({
      code: 'BAD_RELOCATION',
      offset: rel.offset + 8,
      section: '.relxdp',
    });
    expect(rejection(patched((v) => v.setUint32(rel.offset, section('xdp').size, true)))).toMatchObject({
      code: 'BAD_RELOCATION',
      offset: rel.offset,
    });
    // 0x20 is the second slot of the lddw at 0x18.
    expect(rejection(patched((v) => v.setUint32(rel.offset, 0x20, true)))).toMatchObject({
      code: 'BAD_RELOCATION',
      offset: rel.offset,
    });
    expect(rejection(patched((v) => v.setUint32(rel.offset + 8, 10, true))).message).toContain(
      'R_BPF_64_32 does not fit a lddw',
    );
    expect(rejection(patched((v) => v.setUint32(rel.offset + 8, 77, true)))).toMatchObject({
      code: 'BAD_RELOCATION',
      offset: rel.offset + 8,
    });
  });

  it('code that does not decode', () => {
    const xdp = section('xdp');
    const e = rejection(patched((v) => v.setUint8(xdp.offset + 8, 0xff)));
    expect(e).toMatchObject({ code: 'BAD_INSN', offset: xdp.offset + 8, section: 'xdp' });
  });

  it('BTF: a type id out of range, a truncated type section, a bad header', () => {
    const btf = section('.BTF');
    // Type [1] is the first record after the 24-byte header; its size/type word is at +8.
    const ptr = readObject(sample).btf!.types.findIndex((t) => t.kind === 'PTR');
    const rec = readObject(sample).btf!.recordOffsets[ptr]!;
    expect(rejection(patched((v) => v.setUint32(btf.offset + rec + 8, 9999, true)))).toMatchObject({
      code: 'BTF_BAD_TYPE_ID',
      offset: btf.offset + rec,
      section: '.BTF',
    });
    expect(rejection(patched((v) => v.setUint32(btf.offset + 12, 0xffff, true)))).toMatchObject({
      code: 'BTF_TRUNCATED',
      offset: btf.offset + 12,
    });
    expect(rejection(patched((v) => v.setUint8(btf.offset + 2, 2)))).toMatchObject({
      code: 'BTF_BAD_HEADER',
      offset: btf.offset + 2,
    });
    expect(rejection(patched((v) => v.setUint32(btf.offset + 24 + 4, 0x1f000000, true)))).toMatchObject({
      code: 'BTF_BAD_KIND',
      offset: btf.offset + 24 + 4,
    });
    expect(rejection(patched((v) => v.setUint32(btf.offset + 24, 0xfffff, true)))).toMatchObject({
      code: 'BTF_BAD_STRING',
      offset: btf.offset + 24,
    });
  });

  it('BTF: a loop that no pointer breaks is rejected; a pointer cycle is fine', () => {
    const looped: Btf = {
      types: [
        { kind: 'UNKN', name: '' },
        { kind: 'TYPEDEF', name: 'a', type: 2 },
        { kind: 'CONST', name: '', type: 1 },
      ],
    };
    const bytes = writeObject({
      ...sampleSpec(),
      maps: [],
      btf: looped,
      programs: sampleSpec().programs.map((p) => ({ ...p, relocations: [] })),
    });
    const e = rejection(bytes);
    expect(e).toMatchObject({ code: 'BTF_LOOP', section: '.BTF' });
    expect(e.offset).toBeGreaterThanOrEqual(readElf(bytes).sections.find((s) => s.name === '.BTF')!.offset + 24);
    const b = new BtfBuilder();
    const list = b.addUnique({ kind: 'STRUCT', name: 'list', size: 8, kflag: false, members: [] });
    b.set(list, {
      kind: 'STRUCT',
      name: 'list',
      size: 8,
      kflag: false,
      members: [{ name: 'next', type: b.ptr(list), bitOffset: 0, bitfieldSize: 0 }],
    });
    expect(encodeBtf(b.build()).length).toBeGreaterThan(24);
    const ok = writeObject({
      ...sampleSpec(),
      maps: [],
      btf: b.build(),
      programs: sampleSpec().programs.map((p) => ({ ...p, relocations: [] })),
    });
    expect(readObject(ok).btf!.types.length).toBe(3);
  });

  it('BTF.ext: a record at no instruction', () => {
    const ext = section('.BTF.ext');
    // func_info: header (32), rec_size (4), first section name + count (8), first record's insn_off.
    const e = rejection(patched((v) => v.setUint32(ext.offset + 32 + 4 + 8, 4, true)));
    expect(e).toMatchObject({ code: 'BAD_BTF_EXT', section: '.BTF.ext', offset: ext.offset });
  });

  it('maps: a field libbpf does not know', () => {
    const btf = section('.BTF');
    const text = new TextDecoder('latin1').decode(btf.data);
    const at = text.indexOf('max_entries\0');
    const e = rejection(patched((v) => v.setUint8(btf.offset + at + 10, 0x58)));
    expect(e).toMatchObject({ code: 'BAD_MAP', section: '.BTF' });
    expect(e.message).toContain("unknown field 'max_entrieX'");
  });

  it('the input is never modified', () => {
    const before = sample.slice();
    readObject(sample);
    expect(sample).toEqual(before);
  });
});
