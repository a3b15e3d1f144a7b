/**
 * Lays out an ELF64 relocatable object: content sections, a `.rel<name>` section after each section
 * that has relocations, then `.symtab` and `.strtab` (which also holds the section names, as clang
 * does). Local symbols come first, as the gABI requires; indices are fixed at `build()`.
 */
import { StringTableBuilder } from '../btf/strings.ts';
import type { ByteOrder } from '../isa/index.ts';
import {
  EHDR_BYTES,
  ELF_MAGIC,
  ELFCLASS64,
  ELFDATA2LSB,
  ELFDATA2MSB,
  EM_BPF,
  ET_REL,
  EV_CURRENT,
  REL_BYTES,
  SHDR_BYTES,
  SHF,
  SHN_ABS,
  SHT,
  STB,
  STT,
  SYM_BYTES,
} from './constants.ts';

export interface SectionSpec {
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  /** Contents (ignored for NOBITS, which uses `size`). */
  readonly data?: Uint8Array;
  readonly size?: number;
  readonly align: number;
  readonly entsize?: number;
}

export interface SymbolSpec {
  readonly name: string;
  readonly value: number;
  readonly size: number;
  readonly type: number;
  readonly bind: number;
  readonly visibility?: number;
  /** A section handle from addSection, 'UND' (extern) or 'ABS'. */
  readonly section: number | 'UND' | 'ABS';
}

/** A symbol handle (its final index is known only at build time). */
export type SymbolHandle = { readonly spec: SymbolSpec };

interface Reloc {
  readonly offset: number;
  readonly type: number;
  readonly symbol: SymbolHandle;
}

export class ElfBuilder {
  private readonly order: ByteOrder;
  private readonly sections: SectionSpec[] = [];
  private readonly symbols: SymbolHandle[] = [];
  private readonly sectionSymbols = new Map<number, SymbolHandle>();
  private readonly relocs = new Map<number, Reloc[]>();

  constructor(order: ByteOrder) {
    this.order = order;
  }

  /** Adds a content section; returns its handle. */
  addSection(s: SectionSpec): number {
    this.sections.push(s);
    return this.sections.length - 1;
  }

  addSymbol(spec: SymbolSpec): SymbolHandle {
    const h = { spec };
    this.symbols.push(h);
    return h;
  }

  /** The STT_SECTION symbol of a section (created once). */
  sectionSymbol(section: number): SymbolHandle {
    let h = this.sectionSymbols.get(section);
    if (h === undefined) {
      h = this.addSymbol({ name: '', value: 0, size: 0, type: STT.SECTION, bind: STB.LOCAL, section });
      this.sectionSymbols.set(section, h);
    }
    return h;
  }

  addReloc(section: number, offset: number, type: number, symbol: SymbolHandle): void {
    const list = this.relocs.get(section) ?? [];
    list.push({ offset, type, symbol });
    this.relocs.set(section, list);
  }

  build(): Uint8Array {
    const le = this.order === 'le';
    const strtab = new StringTableBuilder();
    // Final section order: NULL, each content section followed by its .rel section, .symtab, .strtab.
    interface Out {
      name: number;
      spec: SectionSpec;
      link: number;
      info: number;
      data: Uint8Array;
    }
    const out: Out[] = [];
    const finalIndex = new Map<number, number>();
    const relOf = new Map<number, number>();
    this.sections.forEach((s, i) => {
      finalIndex.set(i, out.length + 1);
      out.push({ name: strtab.add(s.name), spec: s, link: 0, info: 0, data: s.data ?? new Uint8Array(0) });
      if (this.relocs.has(i)) {
        relOf.set(i, out.length);
        const rel = { name: `.rel${s.name}`, type: SHT.REL, flags: SHF.INFO_LINK, align: 8, entsize: REL_BYTES };
        out.push({ name: strtab.add(rel.name), spec: rel, link: 0, info: 0, data: new Uint8Array(0) });
      }
    });
    const symtabIndex = out.length + 1;
    const strtabIndex = out.length + 2;

    // Symbols: null, locals, then globals.
    const locals = this.symbols.filter((h) => h.spec.bind === STB.LOCAL);
    const globals = this.symbols.filter((h) => h.spec.bind !== STB.LOCAL);
    const ordered = [...locals, ...globals];
    const symIndex = new Map<SymbolHandle, number>(ordered.map((h, i) => [h, i + 1]));
    const symData = new Uint8Array((ordered.length + 1) * SYM_BYTES);
    const sv = new DataView(symData.buffer);
    ordered.forEach((h, i) => {
      const s = h.spec;
      const at = (i + 1) * SYM_BYTES;
      const shndx = s.section === 'UND' ? 0 : s.section === 'ABS' ? SHN_ABS : finalIndex.get(s.section)!;
      sv.setUint32(at, s.name === '' ? 0 : strtab.add(s.name), le);
      sv.setUint8(at + 4, (s.bind << 4) | s.type);
      sv.setUint8(at + 5, s.visibility ?? 0);
      sv.setUint16(at + 6, shndx, le);
      sv.setBigUint64(at + 8, BigInt(s.value), le);
      sv.setBigUint64(at + 16, BigInt(s.size), le);
    });

    // Relocation contents, now that symbol indices are known.
    for (const [section, relIdx] of relOf) {
      const list = this.relocs.get(section)!;
      const data = new Uint8Array(list.length * REL_BYTES);
      const v = new DataView(data.buffer);
      list.forEach((r, i) => {
        const info = (BigInt(symIndex.get(r.symbol)!) << 32n) | BigInt(r.type);
        v.setBigUint64(i * REL_BYTES, BigInt(r.offset), le);
        v.setBigUint64(i * REL_BYTES + 8, info, le);
      });
      const o = out[relIdx]!;
      o.data = data;
      o.link = symtabIndex;
      o.info = finalIndex.get(section)!;
    }
    const symtabSpec = { name: '.symtab', type: SHT.SYMTAB, flags: 0, align: 8, entsize: SYM_BYTES };
    out.push({
      name: strtab.add('.symtab'),
      spec: symtabSpec,
      link: strtabIndex,
      info: locals.length + 1,
      data: symData,
    });
    const strtabName = strtab.add('.strtab');
    const strData = strtab.bytes();
    out.push({
      name: strtabName,
      spec: { name: '.strtab', type: SHT.STRTAB, flags: 0, align: 1 },
      link: 0,
      info: 0,
      data: strData,
    });

    // File layout: header, section contents (aligned), section header table.
    const offsets: number[] = [];
    let at = EHDR_BYTES;
    for (const o of out) {
      const align = Math.max(1, o.spec.align);
      at = Math.ceil(at / align) * align;
      offsets.push(at);
      if (o.spec.type !== SHT.NOBITS) at += o.data.length;
    }
    const shoff = Math.ceil(at / 8) * 8;
    const total = shoff + (out.length + 1) * SHDR_BYTES;
    const file = new Uint8Array(total);
    const v = new DataView(file.buffer);
    file.set(ELF_MAGIC, 0);
    file[4] = ELFCLASS64;
    file[5] = le ? ELFDATA2LSB : ELFDATA2MSB;
    file[6] = EV_CURRENT;
    v.setUint16(16, ET_REL, le);
    v.setUint16(18, EM_BPF, le);
    v.setUint32(20, EV_CURRENT, le);
    v.setBigUint64(40, BigInt(shoff), le);
    v.setUint16(52, EHDR_BYTES, le);
    v.setUint16(58, SHDR_BYTES, le);
    v.setUint16(60, out.length + 1, le);
    v.setUint16(62, strtabIndex, le);
    out.forEach((o, i) => {
      if (o.spec.type !== SHT.NOBITS) file.set(o.data, offsets[i]!);
      const h = shoff + (i + 1) * SHDR_BYTES;
      const size = o.spec.type === SHT.NOBITS ? (o.spec.size ?? 0) : o.data.length;
      v.setUint32(h, o.name, le);
      v.setUint32(h + 4, o.spec.type, le);
      v.setBigUint64(h + 8, BigInt(o.spec.flags), le);
      v.setBigUint64(h + 24, BigInt(offsets[i]!), le);
      v.setBigUint64(h + 32, BigInt(size), le);
      v.setUint32(h + 40, o.link, le);
      v.setUint32(h + 44, o.info, le);
      v.setBigUint64(h + 48, BigInt(o.spec.align), le);
      v.setBigUint64(h + 56, BigInt(o.spec.entsize ?? 0), le);
    });
    return file;
  }
}
