/**
 * readObject: a BPF ELF object as clang writes it and libbpf reads it. Everything is checked; bad
 * input throws ElfError with a code, the file offset and the section — never a host exception.
 */
import { decodeBtf } from '../btf/decode.ts';
import { BtfError } from '../btf/errors.ts';
import { type BtfExt, type BtfExtSection, decodeBtfExt } from '../btf/ext.ts';
import type { DecodedBtf } from '../btf/types.ts';
import { skipModifiers } from '../btf/walk.ts';
import { decode, type Insn, IsaError, insnAtSlot } from '../isa/index.ts';
import { R_BPF, relocTypeName, SHF, SHT, STB, STT } from './constants.ts';
import { ElfError } from './errors.ts';
import { type ElfFile, type ElfSection, readElf } from './file.ts';
import { decodeMapDef, MapDefError } from './maps.ts';
import {
  type BpfFunction,
  type BpfMap,
  type BpfObject,
  type CoreRelo,
  type DataSection,
  dataKindOf,
  type FunctionReloc,
  LICENSE_SECTION,
  type LineInfo,
  MAPS_SECTION,
  TEXT_SECTION,
  VERSION_SECTION,
} from './object.ts';

export interface ReadOptions {
  /** File name, for messages. */
  readonly file?: string;
}

const sectionNamed = (elf: ElfFile, name: string): ElfSection | undefined => elf.sections.find((s) => s.name === name);

/** Re-raises a BtfError from inside a section as an ElfError at its file offset. */
const inSection = <T>(section: ElfSection, f: () => T): T => {
  try {
    return f();
  } catch (e) {
    if (e instanceof BtfError)
      throw new ElfError(e.code, section.offset + e.offset, e.detail, section.name, { cause: e });
    throw e;
  }
};

const readBtf = (elf: ElfFile): { btf: DecodedBtf | undefined; ext: BtfExt | undefined } => {
  const s = sectionNamed(elf, '.BTF');
  if (s === undefined) return { btf: undefined, ext: undefined };
  const btf = inSection(s, () => decodeBtf(s.data));
  const e = sectionNamed(elf, '.BTF.ext');
  const ext = e === undefined ? undefined : inSection(e, () => decodeBtfExt(e.data, btf.stringAt));
  return { btf, ext };
};

/** A function being read: its symbol, extent and decoded instructions. */
interface RawFunction {
  readonly name: string;
  readonly global: boolean;
  readonly offset: number;
  readonly size: number;
  readonly insns: readonly Insn[];
  /** Slot index → instruction index (-1 inside lddw). */
  readonly slotToInsn: Int32Array;
}

/** The function containing a byte offset of its section, and the instruction starting there (-1 if none). */
const locate = (fns: readonly RawFunction[], off: number): { fn: RawFunction; insn: number } | undefined => {
  const fn = fns.find((f) => off >= f.offset && off < f.offset + f.size);
  if (fn === undefined) return undefined;
  const insn = (off - fn.offset) % 8 === 0 ? (fn.slotToInsn[(off - fn.offset) / 8] ?? -1) : -1;
  return { fn, insn };
};

const decodeFunctions = (elf: ElfFile, section: ElfSection): RawFunction[] =>
  elf.symbols
    .filter((s) => s.shndx === section.index && s.type === STT.FUNC)
    .sort((a, b) => a.value - b.value)
    .map((sym) => {
      if (
        sym.value % 8 !== 0 ||
        sym.size % 8 !== 0 ||
        sym.value > section.size ||
        sym.size > section.size - sym.value
      ) {
        const at = section.offset + Math.min(sym.value, section.size);
        throw new ElfError(
          'BAD_SYMBOL',
          at,
          `function '${sym.name}' at ${sym.value} (+${sym.size}) is misaligned or crosses the section boundary`,
          section.name,
        );
      }
      let insns: Insn[];
      try {
        insns = decode(section.data.subarray(sym.value, sym.value + sym.size), elf.order);
      } catch (e) {
        if (!(e instanceof IsaError)) throw e;
        throw new ElfError(
          'BAD_INSN',
          section.offset + sym.value + e.offset,
          `function '${sym.name}' ${e.message}`,
          section.name,
          { cause: e },
        );
      }
      const global = sym.bind === STB.GLOBAL || sym.bind === STB.WEAK;
      return { name: sym.name, global, offset: sym.value, size: sym.size, insns, slotToInsn: insnAtSlot(insns) };
    });

/** The relocations of a code section, attached to the instructions they patch. */
const functionRelocs = (
  elf: ElfFile,
  section: ElfSection,
  fns: readonly RawFunction[],
): Map<RawFunction, FunctionReloc[]> => {
  const per = new Map(fns.map((f) => [f, [] as FunctionReloc[]]));
  for (const rs of elf.relocations) {
    if (rs.target !== section) continue;
    for (const rel of rs.entries) {
      if (rel.type === R_BPF.NONE) continue;
      const where = locate(fns, rel.offset);
      if (rel.offset % 8 !== 0 || where?.insn === -1) {
        throw new ElfError(
          'BAD_RELOCATION',
          rel.at,
          `relocation at ${rel.offset} is not at an instruction`,
          rs.section.name,
        );
      }
      if (where === undefined) continue;
      const kind = where.fn.insns[where.insn]!.spec.kind;
      const fits =
        (rel.type === R_BPF.R_BPF_64_64 && kind === 'lddw') || (rel.type === R_BPF.R_BPF_64_32 && kind === 'call');
      if (!fits) {
        throw new ElfError(
          'BAD_RELOCATION',
          rel.at,
          `${relocTypeName(rel.type)} does not fit a ${kind} instruction`,
          rs.section.name,
        );
      }
      per.get(where.fn)!.push({ insn: where.insn, offset: rel.offset, type: rel.type, symbol: rel.symbol });
    }
  }
  return per;
};

/** .BTF.ext records of one section, attached to instructions of its functions. */
const perFunction = <R extends { readonly insnOff: number }, T>(
  elf: ElfFile,
  section: ElfSection,
  fns: readonly RawFunction[],
  list: readonly BtfExtSection<R>[] | undefined,
  what: string,
  map: (r: R, insn: number) => T,
): Map<RawFunction, T[]> => {
  const per = new Map(fns.map((f) => [f, [] as T[]]));
  for (const sec of list ?? []) {
    if (sec.section !== section.name) continue;
    sec.records.forEach((r, i) => {
      const where = locate(fns, r.insnOff);
      if (where === undefined || where.insn < 0) {
        const ext = sectionNamed(elf, '.BTF.ext')!;
        const detail = `${what} record ${i} of '${section.name}': insn offset ${r.insnOff} is at no instruction`;
        throw new ElfError('BAD_BTF_EXT', ext.offset, detail, ext.name);
      }
      per.get(where.fn)!.push(map(r, where.insn));
    });
  }
  return per;
};

const readFunctions = (elf: ElfFile, ext: BtfExt | undefined): BpfFunction[] =>
  elf.sections.flatMap((section) => {
    if (section.type !== SHT.PROGBITS || (section.flags & SHF.EXECINSTR) === 0) return [];
    if (section.size % 8 !== 0) {
      throw new ElfError(
        'BAD_SECTION',
        section.offset,
        `code size ${section.size} is not a multiple of 8`,
        section.name,
      );
    }
    const fns = decodeFunctions(elf, section);
    const relocs = functionRelocs(elf, section, fns);
    const funcs = perFunction(elf, section, fns, ext?.funcInfo, 'func_info', (r, insn) => ({ insn, typeId: r.typeId }));
    const lines = perFunction(elf, section, fns, ext?.lineInfo, 'line_info', (r, insn): LineInfo => {
      return { insn, file: r.file, line: r.line, col: r.col, text: r.text };
    });
    const core = perFunction(elf, section, fns, ext?.coreRelos, 'core_relo', (r, insn): CoreRelo => {
      return { insn, typeId: r.typeId, access: r.access, kind: r.kind };
    });
    return fns.map((f) => ({
      name: f.name,
      section: section.name,
      offset: f.offset,
      size: f.size,
      global: f.global,
      insns: f.insns,
      relocations: relocs.get(f)!,
      btfFunc: funcs.get(f)!.find((i) => i.insn === 0)?.typeId,
      lines: lines.get(f)!,
      coreRelos: core.get(f)!,
    }));
  });

const readMaps = (elf: ElfFile, btf: DecodedBtf | undefined): BpfMap[] => {
  const section = sectionNamed(elf, MAPS_SECTION);
  if (section === undefined) return [];
  const btfSection = sectionNamed(elf, '.BTF');
  if (btf === undefined || btfSection === undefined) {
    throw new ElfError('BAD_MAP', section.offset, 'BTF-defined maps need .BTF, which is missing', section.name);
  }
  const datasecs = btf.types.flatMap((t, id) => (t.kind === 'DATASEC' && t.name === MAPS_SECTION ? [{ t, id }] : []));
  if (datasecs.length === 0) {
    if (section.size === 0) return [];
    throw new ElfError('BAD_MAP', section.offset, "no BTF DATASEC '.maps' describes the section", section.name);
  }
  const [{ t: datasec, id: datasecId }] = datasecs as [(typeof datasecs)[number]];
  if (datasec.kind !== 'DATASEC') return [];
  const at = (id: number): number => btfSection.offset + (btf.recordOffsets[id] ?? 0);
  return datasec.vars.map((v) => {
    const variable = btf.types[v.type]!;
    if (variable.kind !== 'VAR') {
      throw new ElfError(
        'BAD_MAP',
        at(datasecId),
        `'.maps' entry [${v.type}] is ${variable.kind}, not VAR`,
        btfSection.name,
      );
    }
    const sym = elf.symbols.find(
      (s) => s.shndx === section.index && s.name === variable.name && s.type !== STT.SECTION,
    );
    if (sym === undefined)
      throw new ElfError('BAD_MAP', section.offset, `map '${variable.name}': no ELF symbol in .maps`, section.name);
    const size = datasec.size === 0 ? sym.size : v.size;
    if (sym.value > section.size || size > section.size - sym.value) {
      throw new ElfError(
        'BAD_MAP',
        section.offset,
        `map '${variable.name}' at ${sym.value} (+${size}) is past .maps`,
        section.name,
      );
    }
    try {
      const def = decodeMapDef(btf, variable.name, skipModifiers(btf, variable.type));
      return { name: variable.name, offset: sym.value, size, btfVar: v.type, ...def };
    } catch (e) {
      if (e instanceof MapDefError)
        throw new ElfError('BAD_MAP', at(e.typeId), e.message, btfSection.name, { cause: e });
      if (e instanceof BtfError) throw new ElfError(e.code, at(v.type), e.detail, btfSection.name, { cause: e });
      throw e;
    }
  });
};

const readData = (elf: ElfFile, btf: DecodedBtf | undefined): DataSection[] =>
  elf.sections.flatMap((s) => {
    const kind = dataKindOf(s.name);
    if (kind === undefined || (s.type !== SHT.PROGBITS && s.type !== SHT.NOBITS)) return [];
    const datasec = btf?.types.find((t) => t.kind === 'DATASEC' && t.name === s.name);
    const btfTypeOf = (name: string): number | undefined => {
      if (datasec?.kind !== 'DATASEC' || btf === undefined) return undefined;
      for (const v of datasec.vars) {
        const t = btf.types[v.type];
        if (t?.kind === 'VAR' && t.name === name) return t.type;
      }
      return undefined;
    };
    const vars = elf.symbols
      .filter((sym) => sym.shndx === s.index && (sym.type === STT.OBJECT || sym.type === STT.NOTYPE) && sym.name !== '')
      .sort((a, b) => a.value - b.value || a.index - b.index)
      .map((sym) => {
        if (sym.value > s.size || sym.size > s.size - sym.value) {
          throw new ElfError(
            'BAD_SYMBOL',
            s.offset,
            `variable '${sym.name}' at ${sym.value} (+${sym.size}) is past ${s.name}`,
            s.name,
          );
        }
        return {
          name: sym.name,
          offset: sym.value,
          size: sym.size,
          global: sym.bind !== STB.LOCAL,
          btfType: btfTypeOf(sym.name),
        };
      });
    return [{ name: s.name, kind, size: s.size, bytes: s.data, vars }];
  });

const readLicense = (elf: ElfFile): string | undefined => {
  const s = sectionNamed(elf, LICENSE_SECTION);
  if (s === undefined) return undefined;
  const end = s.data.indexOf(0);
  return new TextDecoder().decode(end < 0 ? s.data : s.data.subarray(0, end));
};

const readVersion = (elf: ElfFile): number | undefined => {
  const s = sectionNamed(elf, VERSION_SECTION);
  if (s === undefined) return undefined;
  // The bytes held, not sh_size: a NOBITS section has a size but no contents.
  if (s.data.length !== 4) {
    throw new ElfError('BAD_SECTION', s.offset, `version section of ${s.data.length} bytes (needs 4)`, s.name);
  }
  return new DataView(s.data.buffer, s.data.byteOffset, 4).getUint32(0, elf.order === 'le');
};

/** Reads a BPF ELF object. */
export const readObject = (bytes: Uint8Array, options: ReadOptions = {}): BpfObject => {
  const elf = readElf(bytes);
  const { btf, ext } = readBtf(elf);
  const functions = readFunctions(elf, ext);
  const isProgram = (f: BpfFunction): boolean => f.section !== TEXT_SECTION && f.global;
  return {
    file: options.file,
    order: elf.order,
    sections: elf.sections,
    symbols: elf.symbols,
    relocations: elf.relocations,
    programs: functions.filter(isProgram),
    subprograms: functions.filter((f) => !isProgram(f)),
    license: readLicense(elf),
    version: readVersion(elf),
    maps: readMaps(elf, btf),
    data: readData(elf, btf),
    btf,
    btfExt: ext,
  };
};
