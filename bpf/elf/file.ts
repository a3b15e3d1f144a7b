/**
 * The ELF64 container of a BPF object: header, section table, names, symbols and REL relocations,
 * every offset and index checked against the file before use. Knows nothing about BPF semantics.
 */
import { decodeName } from '../btf/strings.ts';
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
  isKnownRelocType,
  REL_BYTES,
  R_BPF,
  SHDR_BYTES,
  SHN_LORESERVE,
  SHN_XINDEX,
  SHT,
  SHF,
  STT,
  SYM_BYTES,
} from './constants.ts';
import { ElfError } from './errors.ts';

export interface ElfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly align: number;
  readonly entsize: number;
  /** The section's bytes (a view into the input; empty for NOBITS). */
  readonly data: Uint8Array;
}

export interface ElfSymbol {
  readonly index: number;
  /** The symbol's name; for a section symbol, its section's name (as llvm-readelf shows it). */
  readonly name: string;
  readonly value: number;
  readonly size: number;
  /** STT_* */
  readonly type: number;
  /** STB_* */
  readonly bind: number;
  /** STV_* */
  readonly visibility: number;
  readonly shndx: number;
  /** Name of the section defining the symbol; undefined for undefined/absolute/common symbols. */
  readonly section: string | undefined;
}

export interface ElfRel {
  /** r_offset: byte offset in the target section. */
  readonly offset: number;
  readonly type: number;
  readonly symbol: ElfSymbol;
  /** File offset of the entry (for errors). */
  readonly at: number;
}

export interface ElfRelSection {
  /** The REL section itself. */
  readonly section: ElfSection;
  /** The section the relocations apply to. */
  readonly target: ElfSection;
  readonly entries: readonly ElfRel[];
}

export interface ElfFile {
  readonly order: ByteOrder;
  readonly sections: readonly ElfSection[];
  readonly symbols: readonly ElfSymbol[];
  readonly relocations: readonly ElfRelSection[];
}

/** Bounds-checked little/big-endian reads over the whole file. */
class Reader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly le: boolean;
  constructor(bytes: Uint8Array, le: boolean) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.le = le;
  }
  u8(at: number): number {
    return this.view.getUint8(at);
  }
  u16(at: number): number {
    return this.view.getUint16(at, this.le);
  }
  u32(at: number): number {
    return this.view.getUint32(at, this.le);
  }
  /** u64 as a number; values beyond 2^53 round but stay larger than any file, so range checks still fail them. */
  u64(at: number): number {
    const lo = this.view.getUint32(this.le ? at : at + 4, this.le);
    const hi = this.view.getUint32(this.le ? at + 4 : at, this.le);
    return hi * 0x100000000 + lo;
  }
}

const EMPTY = new Uint8Array(0);

/** Reads a NUL-terminated name from a string table section. */
const nameAt = (table: ElfSection, off: number, fieldAt: number): string => {
  if (off >= table.data.length) {
    throw new ElfError(
      'BAD_STRING',
      fieldAt,
      `name offset ${off} past ${table.name || 'string table'} (${table.data.length} bytes)`,
    );
  }
  const end = table.data.indexOf(0, off);
  if (end < 0)
    throw new ElfError('BAD_STRING', table.offset + off, `name at ${off} has no terminating NUL`, table.name);
  return decodeName(table.data, off, end);
};

const readIdent = (bytes: Uint8Array): ByteOrder => {
  if (bytes.length < 16)
    throw new ElfError('TRUNCATED', 0, `file of ${bytes.length} bytes is shorter than an ELF identification`);
  if (!ELF_MAGIC.every((b, i) => bytes[i] === b)) throw new ElfError('BAD_HEADER', 0, 'not an ELF file (bad magic)');
  if (bytes[4] !== ELFCLASS64) throw new ElfError('BAD_HEADER', 4, `EI_CLASS ${bytes[4]} is not ELFCLASS64`);
  const data = bytes[5];
  if (data !== ELFDATA2LSB && data !== ELFDATA2MSB)
    throw new ElfError('BAD_HEADER', 5, `EI_DATA ${data} is no byte order`);
  if (bytes[6] !== EV_CURRENT) throw new ElfError('BAD_HEADER', 6, `EI_VERSION ${bytes[6]} is not 1`);
  if (bytes.length < EHDR_BYTES)
    throw new ElfError('TRUNCATED', 0, `file of ${bytes.length} bytes is shorter than the ELF header`);
  return data === ELFDATA2LSB ? 'le' : 'be';
};

interface SectionTable {
  readonly shoff: number;
  readonly count: number;
  readonly shstrndx: number;
}

const readSectionTable = (r: Reader): SectionTable => {
  const type = r.u16(16);
  const machine = r.u16(18);
  if (type !== ET_REL) throw new ElfError('NOT_BPF', 16, `e_type ${type} is not ET_REL (a relocatable object)`);
  if (machine !== EM_BPF) throw new ElfError('NOT_BPF', 18, `e_machine ${machine} is not EM_BPF (247)`);
  const shoff = r.u64(40);
  const shentsize = r.u16(58);
  let count = r.u16(60);
  let shstrndx = r.u16(62);
  const len = r.bytes.length;
  if (shoff === 0) throw new ElfError('BAD_SECTION', 40, 'object has no section header table');
  if (shentsize !== SHDR_BYTES) throw new ElfError('BAD_SECTION', 58, `e_shentsize ${shentsize} is not ${SHDR_BYTES}`);
  if (shoff + SHDR_BYTES > len)
    throw new ElfError('TRUNCATED', 40, `section header table at ${shoff} is past the end (${len})`);
  // Extended numbering: the real count / string table index live in section 0.
  if (count === 0) count = r.u64(shoff + 32);
  if (shstrndx === SHN_XINDEX) shstrndx = r.u32(shoff + 40);
  if (count > (len - shoff) / SHDR_BYTES) {
    throw new ElfError('TRUNCATED', 60, `${count} section headers at ${shoff} run past the end (${len})`);
  }
  if (shstrndx >= count)
    throw new ElfError('BAD_SECTION', 62, `e_shstrndx ${shstrndx} out of range (${count} sections)`);
  return { shoff, count, shstrndx };
};

const readSections = (r: Reader, t: SectionTable): ElfSection[] => {
  const shstrAt = t.shoff + t.shstrndx * SHDR_BYTES;
  if (r.u32(shstrAt + 4) !== SHT.STRTAB) {
    throw new ElfError('BAD_SECTION', shstrAt + 4, `e_shstrndx ${t.shstrndx} is not a string table`);
  }
  const out: ElfSection[] = [];
  let shstr: ElfSection | undefined;
  // The string table first, so that names can be read in one pass.
  for (const i of [t.shstrndx, ...Array.from({ length: t.count }, (_, k) => k)]) {
    if (i === t.shstrndx && shstr !== undefined) {
      out.push(shstr);
      continue;
    }
    const at = t.shoff + i * SHDR_BYTES;
    const type = r.u32(at + 4);
    const offset = r.u64(at + 24);
    const size = r.u64(at + 32);
    const link = r.u32(at + 40);
    if (type === SHT.NOBITS) {
      if (size > 0xffffffff) throw new ElfError('BAD_SECTION', at + 32, `NOBITS section of ${size} bytes`);
    } else if (type !== SHT.NULL && (offset > r.bytes.length || size > r.bytes.length - offset)) {
      throw new ElfError(
        'BAD_SECTION',
        at + 24,
        `section [${i}] [${offset}, +${size}) is past the end (${r.bytes.length})`,
      );
    }
    if (link >= t.count) throw new ElfError('BAD_SECTION', at + 40, `section [${i}] sh_link ${link} out of range`);
    const data = type === SHT.NOBITS || type === SHT.NULL ? EMPTY : r.bytes.subarray(offset, offset + size);
    const nameOff = r.u32(at);
    const section: ElfSection = {
      index: i,
      name: shstr === undefined ? '' : nameAt(shstr, nameOff, at),
      type,
      flags: r.u64(at + 8),
      offset,
      size,
      link,
      info: r.u32(at + 44),
      align: r.u64(at + 48),
      entsize: r.u64(at + 56),
      data,
    };
    if (shstr === undefined) shstr = { ...section, name: nameAt(section, nameOff, at) };
    else out.push(section);
  }
  return out;
};

const readSymbols = (r: Reader, sections: readonly ElfSection[]): ElfSymbol[] => {
  const tables = sections.filter((s) => s.type === SHT.SYMTAB);
  if (tables.length === 0) return [];
  if (tables.length > 1)
    throw new ElfError('BAD_SECTION', tables[1]!.offset, 'more than one symbol table', tables[1]!.name);
  const symtab = tables[0]!;
  if (symtab.entsize !== SYM_BYTES || symtab.size % SYM_BYTES !== 0) {
    throw new ElfError(
      'BAD_SECTION',
      symtab.offset,
      `symbol table entry size ${symtab.entsize} / size ${symtab.size} invalid`,
      symtab.name,
    );
  }
  const strtab = sections[symtab.link]!;
  if (strtab.type !== SHT.STRTAB)
    throw new ElfError('BAD_SECTION', symtab.offset, `sh_link ${symtab.link} is not a string table`, symtab.name);
  const out: ElfSymbol[] = [];
  for (let i = 0, at = symtab.offset; i < symtab.size / SYM_BYTES; i++, at += SYM_BYTES) {
    const info = r.u8(at + 4);
    const shndx = r.u16(at + 6);
    const type = info & 0xf;
    if (shndx === SHN_XINDEX)
      throw new ElfError('BAD_SYMBOL', at + 6, `symbol ${i}: extended section indices are not supported`, symtab.name);
    if (shndx < SHN_LORESERVE && shndx >= sections.length) {
      throw new ElfError('BAD_SYMBOL', at + 6, `symbol ${i}: section index ${shndx} out of range`, symtab.name);
    }
    const defined = shndx !== 0 && shndx < SHN_LORESERVE ? sections[shndx] : undefined;
    let name = nameAt(strtab, r.u32(at), at);
    if (type === STT.SECTION && name === '' && defined !== undefined) name = defined.name;
    out.push({
      index: i,
      name,
      value: r.u64(at + 8),
      size: r.u64(at + 16),
      type,
      bind: info >> 4,
      visibility: r.u8(at + 5) & 3,
      shndx,
      section: defined?.name,
    });
  }
  return out;
};

/** Bytes a relocation patches at r_offset; in code, lddw's two slots and a call's slot. */
export const relocWidth = (type: number, inCode: boolean): number => {
  switch (type) {
    case R_BPF.R_BPF_64_64:
      return inCode ? 16 : 8;
    case R_BPF.R_BPF_64_ABS64:
      return 8;
    case R_BPF.R_BPF_64_32:
      return inCode ? 8 : 4;
    case R_BPF.R_BPF_64_ABS32:
    case R_BPF.R_BPF_64_NODYLD32:
      return 4;
    default:
      return 0;
  }
};

const readRelocations = (
  r: Reader,
  sections: readonly ElfSection[],
  symbols: readonly ElfSymbol[],
): ElfRelSection[] => {
  const out: ElfRelSection[] = [];
  for (const s of sections) {
    if (s.type === SHT.RELA)
      throw new ElfError('BAD_SECTION', s.offset, 'RELA relocations are not used in BPF objects', s.name);
    if (s.type !== SHT.REL) continue;
    if (s.entsize !== REL_BYTES || s.size % REL_BYTES !== 0) {
      throw new ElfError(
        'BAD_SECTION',
        s.offset,
        `relocation entry size ${s.entsize} / size ${s.size} invalid`,
        s.name,
      );
    }
    if (sections[s.link]?.type !== SHT.SYMTAB) {
      throw new ElfError('BAD_SECTION', s.offset, `sh_link ${s.link} is not the symbol table`, s.name);
    }
    const target = sections[s.info];
    if (target === undefined || s.info === 0) {
      throw new ElfError('BAD_SECTION', s.offset, `sh_info ${s.info} names no section to relocate`, s.name);
    }
    const inCode = (target.flags & SHF.EXECINSTR) !== 0;
    const entries: ElfRel[] = [];
    for (let at = s.offset; at < s.offset + s.size; at += REL_BYTES) {
      const offset = r.u64(at);
      const symIndex = r.u32(at + (r.le ? 12 : 8));
      const type = r.u32(at + (r.le ? 8 : 12));
      if (!isKnownRelocType(type))
        throw new ElfError('BAD_RELOCATION', at + 8, `unknown relocation type ${type}`, s.name);
      const symbol = symbols[symIndex];
      if (symbol === undefined || symIndex === 0) {
        throw new ElfError(
          'BAD_RELOCATION',
          at + 8,
          `symbol index ${symIndex} out of range (${symbols.length} symbols)`,
          s.name,
        );
      }
      const width = relocWidth(type, inCode);
      if (target.type === SHT.NOBITS || offset > target.size || width > target.size - offset) {
        throw new ElfError(
          'BAD_RELOCATION',
          at,
          `relocation at ${offset} (+${width}) is past ${target.name} (${target.size} bytes)`,
          s.name,
        );
      }
      entries.push({ offset, type, symbol, at });
    }
    out.push({ section: s, target, entries });
  }
  return out;
};

/** Parses and checks the ELF container. */
export const readElf = (bytes: Uint8Array): ElfFile => {
  const order = readIdent(bytes);
  const r = new Reader(bytes, order === 'le');
  const table = readSectionTable(r);
  const sections = readSections(r, table);
  const symbols = readSymbols(r, sections);
  const relocations = readRelocations(r, sections, symbols);
  return { order, sections, symbols, relocations };
};
