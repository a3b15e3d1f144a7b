/**
 * writeObject: a BPF ELF object from a spec — code sections with exact global FUNC symbols, .text
 * subprograms, relocations, `.maps` in libbpf's BTF encoding, global data, license/version, .BTF and
 * .BTF.ext (func_info, line_info, CO-RE records), .symtab/.strtab — in either byte order.
 */
import { BtfBuilder } from '../btf/builder.ts';
import { encodeBtf } from '../btf/encode.ts';
import { BtfError } from '../btf/errors.ts';
import {
  type BtfExt,
  type BtfExtSection,
  type CoreReloRecord,
  encodeBtfExt,
  type FuncInfoRecord,
  type LineInfoRecord,
} from '../btf/ext.ts';
import { BtfFuncLinkage, BtfVarLinkage } from '../btf/kinds.ts';
import { StringTableBuilder } from '../btf/strings.ts';
import type { Btf } from '../btf/types.ts';
import { sizeOf, skipModifiers } from '../btf/walk.ts';
import { type ByteOrder, encode, slotIndex } from '../isa/index.ts';
import { R_BPF, SHF, SHT, STB, STT } from './constants.ts';
import { ElfWriteError } from './errors.ts';
import { ElfBuilder, type SymbolHandle } from './layout.ts';
import { decodeMapDef, encodeMapDef, MapDefError, type MapDefSpec } from './maps.ts';
import { dataKindOf, LICENSE_SECTION, MAPS_SECTION, TEXT_SECTION, VERSION_SECTION } from './object.ts';
import type { BpfObjectSpec, DataSpec, FunctionSpec, LineSpec, MapSpec, RelocSpec } from './spec.ts';

export interface WriteOptions {
  readonly order?: ByteOrder;
}

/** A function placed in its section. */
interface Placed {
  readonly spec: FunctionSpec;
  readonly program: boolean;
  readonly section: string;
  readonly offset: number;
  readonly pcs: Int32Array;
  readonly bytes: number;
  btfFunc: number | undefined;
}

const place = (spec: BpfObjectSpec): Map<string, Placed[]> => {
  const bySection = new Map<string, Placed[]>([[TEXT_SECTION, []]]);
  const add = (f: FunctionSpec, program: boolean): void => {
    const section = f.section ?? (program ? undefined : TEXT_SECTION);
    if (section === undefined || section === '')
      throw new ElfWriteError(f.name, 'a program needs a section (its SEC name)');
    if (program && section === TEXT_SECTION)
      throw new ElfWriteError(f.name, 'programs cannot live in .text (that is for subprograms)');
    if (dataKindOf(section) || [MAPS_SECTION, LICENSE_SECTION, VERSION_SECTION, '.BTF', '.BTF.ext'].includes(section)) {
      throw new ElfWriteError(f.name, `section '${section}' is reserved`);
    }
    const list = bySection.get(section) ?? [];
    const prev = list[list.length - 1];
    const offset = prev === undefined ? 0 : prev.offset + prev.bytes;
    const { pcs, slots } = slotIndex(f.insns);
    list.push({ spec: f, program, section, offset, pcs, bytes: slots * 8, btfFunc: f.btfFunc });
    bySection.set(section, list);
  };
  for (const p of spec.programs) add(p, true);
  for (const s of spec.subprograms ?? []) add(s, false);
  return bySection;
};

/** Sorted, checked line records of a function; a record at instruction 0 is added when missing. */
const linesOf = (f: Placed, defaultFile: string, needed: boolean): LineSpec[] => {
  const lines = [...(f.spec.lines ?? [])].sort((a, b) => a.insn - b.insn);
  lines.forEach((l, i) => {
    if (!Number.isInteger(l.insn) || l.insn < 0 || l.insn >= f.spec.insns.length) {
      throw new ElfWriteError(`${f.spec.name} insn ${l.insn}`, 'line record outside the function');
    }
    if (i > 0 && lines[i - 1]!.insn === l.insn)
      throw new ElfWriteError(`${f.spec.name} insn ${l.insn}`, 'two line records for one instruction');
  });
  if (!needed) return lines;
  const first = lines[0];
  if (first === undefined) return [{ insn: 0, line: 0, col: 0, file: defaultFile, text: '' }];
  if (first.insn !== 0)
    lines.unshift({ insn: 0, line: first.line, col: 0, file: first.file ?? defaultFile, text: first.text ?? '' });
  return lines;
};

/** Adds a section's ext records in function order. */
const extSection = <R>(list: BtfExtSection<R>[], section: string, records: R[]): void => {
  if (records.length > 0) list.push({ section, records });
};

interface MapLayout {
  readonly spec: MapSpec;
  readonly offset: number;
  readonly size: number;
  readonly var: number;
}

const sameDef = (a: MapDefSpec, b: MapDefSpec): string | undefined => {
  const fields = [
    'type',
    'maxEntries',
    'flags',
    'keySize',
    'valueSize',
    'keyType',
    'valueType',
    'pinning',
    'mapExtra',
    'numaNode',
  ] as const;
  const zero = (v: number | undefined, f: string): number | undefined =>
    v === undefined && !f.endsWith('Type') ? 0 : v;
  return fields.find((f) => zero(a[f], f) !== zero(b[f], f));
};

/** Map layout in .maps and its BTF: from the given BTF (verbatim) or built into `b`. */
const layoutMaps = (maps: readonly MapSpec[], btf: Btf | undefined, b: BtfBuilder): MapLayout[] => {
  let offset = 0;
  const vars = btf?.types.flatMap((t) => (t.kind === 'DATASEC' && t.name === MAPS_SECTION ? t.vars : [])) ?? [];
  const out = maps.map((m) => {
    let size: number;
    let varId: number;
    if (btf !== undefined) {
      const v = vars.find((s) => {
        const t = btf.types[s.type];
        return t?.kind === 'VAR' && t.name === m.name;
      });
      if (v === undefined) throw new ElfWriteError(m.name, "map has no VAR in the BTF DATASEC '.maps'");
      const variable = btf.types[v.type]!;
      if (variable.kind !== 'VAR') throw new ElfWriteError(m.name, 'not a VAR');
      try {
        const def = decodeMapDef(btf, m.name, skipModifiers(btf, variable.type));
        const differs = sameDef(def, m);
        if (differs) throw new ElfWriteError(m.name, `spec field '${differs}' disagrees with the map's BTF`);
      } catch (e) {
        if (e instanceof MapDefError || e instanceof BtfError) throw new ElfWriteError(m.name, e.message);
        throw e;
      }
      size = sizeOf(btf, variable.type) ?? 0;
      varId = v.type;
    } else {
      if (m.keyType !== undefined || m.valueType !== undefined) {
        throw new ElfWriteError(m.name, 'key/value BTF types need verbatim BTF; give keySize/valueSize');
      }
      const def = encodeMapDef(b, m);
      size = def.size;
      varId = b.variable(m.name, def.id);
    }
    offset = Math.ceil(offset / 8) * 8;
    const placed = { spec: m, offset, size, var: varId };
    offset += size;
    return placed;
  });
  if (btf === undefined && out.length > 0) {
    const end = out[out.length - 1]!;
    b.datasec(
      MAPS_SECTION,
      end.offset + end.size,
      out.map((m) => ({ type: m.var, offset: m.offset, size: m.size })),
    );
  }
  return out;
};

const checkData = (d: DataSpec): { size: number; bss: boolean } => {
  const kind = dataKindOf(d.name);
  if (kind === undefined) throw new ElfWriteError(d.name, 'not a .data/.rodata/.bss section name');
  const bss = kind === 'bss';
  if (bss && d.bytes !== undefined) throw new ElfWriteError(d.name, '.bss has no contents; give its size');
  if (!bss && d.bytes === undefined) throw new ElfWriteError(d.name, 'contents missing');
  const size = bss ? (d.size ?? 0) : d.bytes!.length;
  for (const v of d.vars ?? []) {
    if (v.offset < 0 || v.size < 0 || v.offset + v.size > size)
      throw new ElfWriteError(`${d.name}:${v.name}`, 'variable outside its section');
  }
  return { size, bss };
};

/** Synthesized BTF type of a variable of `size` bytes. */
const dataVarType = (b: BtfBuilder, size: number): number => {
  const names: Record<number, string> = {
    1: 'unsigned char',
    2: 'unsigned short',
    4: 'unsigned int',
    8: 'unsigned long long',
  };
  const n = names[size];
  return n !== undefined ? b.int(n, size) : b.array(b.int('unsigned char', 1), size);
};

const funcType = (b: BtfBuilder, f: Placed): number => {
  const long = () => b.int('long', 8, true);
  const ret = f.spec.returns ?? 'int';
  const retId = ret === 'void' ? 0 : ret === 'long' ? long() : b.int('int', 4, true);
  const params = f.spec.params ?? (f.program ? [{ name: 'ctx', pointer: true }] : []);
  const proto = b.funcProto(
    retId,
    params.map((p) => ({ name: p.name, type: p.pointer ? b.ptr(0) : long() })),
  );
  const global = f.program || f.spec.global === true;
  return b.func(f.spec.name, proto, global ? BtfFuncLinkage.GLOBAL : BtfFuncLinkage.STATIC);
};

/** Writes a BPF ELF object. */
export const writeObject = (spec: BpfObjectSpec, options: WriteOptions = {}): Uint8Array => {
  const order = options.order ?? 'le';
  const verbatim = spec.btf;
  const b = new BtfBuilder();
  const elf = new ElfBuilder(order);
  const names = new Set<string>();
  const claim = (name: string, what: string): void => {
    if (names.has(name)) throw new ElfWriteError(name, `${what} name is already used by another symbol`);
    names.add(name);
  };

  // Code sections.
  const placed = place(spec);
  const byName = new Map([...placed.values()].flat().map((f) => [f.spec.name, f]));
  /** The function a `function` relocation takes the address of. */
  const addressed = (f: Placed, r: RelocSpec): Placed => {
    const g = byName.get(r.symbol);
    if (g === undefined || g.program)
      throw new ElfWriteError(`${f.spec.name} insn ${r.insn}`, `no subprogram '${r.symbol}' to take the address of`);
    return g;
  };
  const sectionIds = new Map<string, number>();
  const symbols = new Map<string, SymbolHandle>();
  for (const [section, fns] of placed) {
    const code = new Uint8Array(fns.reduce((n, f) => n + f.bytes, 0));
    for (const f of fns) {
      const insns = [...f.spec.insns];
      for (const r of f.spec.relocations ?? []) {
        const i = insns[r.insn];
        if (r.function && i !== undefined) insns[r.insn] = { ...i, imm: addressed(f, r).offset, imm2: 0 };
      }
      code.set(encode(insns, order), f.offset);
    }
    const id = elf.addSection({
      name: section,
      type: SHT.PROGBITS,
      flags: SHF.ALLOC | SHF.EXECINSTR,
      data: code,
      align: 8,
    });
    sectionIds.set(section, id);
    for (const f of fns) {
      claim(f.spec.name, 'function');
      const global = f.program || f.spec.global === true;
      const bind = global ? STB.GLOBAL : STB.LOCAL;
      symbols.set(
        f.spec.name,
        elf.addSymbol({ name: f.spec.name, value: f.offset, size: f.bytes, type: STT.FUNC, bind, section: id }),
      );
      if (!verbatim) f.btfFunc = funcType(b, f);
    }
  }

  // Global data.
  for (const d of spec.data ?? []) {
    if (sectionIds.has(d.name)) throw new ElfWriteError(d.name, 'section given twice');
    const { size, bss } = checkData(d);
    const rodata = dataKindOf(d.name) === 'rodata';
    const id = elf.addSection({
      name: d.name,
      type: bss ? SHT.NOBITS : SHT.PROGBITS,
      flags: SHF.ALLOC | (rodata ? 0 : SHF.WRITE),
      ...(bss ? { size } : { data: d.bytes! }),
      align: 8,
    });
    sectionIds.set(d.name, id);
    const vars = [...(d.vars ?? [])].sort((x, y) => x.offset - y.offset);
    const infos: { type: number; offset: number; size: number }[] = [];
    for (const v of vars) {
      claim(v.name, 'variable');
      const bind = v.global === false ? STB.LOCAL : STB.GLOBAL;
      symbols.set(
        v.name,
        elf.addSymbol({ name: v.name, value: v.offset, size: v.size, type: STT.OBJECT, bind, section: id }),
      );
      if (!verbatim) {
        const linkage = v.global === false ? BtfVarLinkage.STATIC : BtfVarLinkage.GLOBAL_ALLOCATED;
        infos.push({ type: b.variable(v.name, dataVarType(b, v.size), linkage), offset: v.offset, size: v.size });
      }
    }
    infos.forEach((v, i) => {
      const prev = infos[i - 1];
      if (prev !== undefined && prev.offset + prev.size > v.offset)
        throw new ElfWriteError(d.name, 'variables overlap');
    });
    if (!verbatim && infos.length > 0) b.datasec(d.name, size, infos);
  }

  // Maps.
  const maps = layoutMaps(spec.maps ?? [], verbatim, b);
  if (maps.length > 0) {
    const last = maps[maps.length - 1]!;
    const id = elf.addSection({
      name: MAPS_SECTION,
      type: SHT.PROGBITS,
      flags: SHF.ALLOC | SHF.WRITE,
      data: new Uint8Array(last.offset + last.size),
      align: 8,
    });
    sectionIds.set(MAPS_SECTION, id);
    for (const m of maps) {
      claim(m.spec.name, 'map');
      symbols.set(
        m.spec.name,
        elf.addSymbol({
          name: m.spec.name,
          value: m.offset,
          size: m.size,
          type: STT.OBJECT,
          bind: STB.GLOBAL,
          section: id,
        }),
      );
    }
  }

  // License and version.
  const license = new TextEncoder().encode(`${spec.license}\0`);
  const licId = elf.addSection({
    name: LICENSE_SECTION,
    type: SHT.PROGBITS,
    flags: SHF.ALLOC | SHF.WRITE,
    data: license,
    align: 1,
  });
  elf.addSymbol({
    name: '_license',
    value: 0,
    size: license.length,
    type: STT.OBJECT,
    bind: STB.GLOBAL,
    section: licId,
  });
  if (spec.version !== undefined) {
    const v = new Uint8Array(4);
    new DataView(v.buffer).setUint32(0, spec.version >>> 0, order === 'le');
    const id = elf.addSection({
      name: VERSION_SECTION,
      type: SHT.PROGBITS,
      flags: SHF.ALLOC | SHF.WRITE,
      data: v,
      align: 4,
    });
    elf.addSymbol({ name: '_version', value: 0, size: 4, type: STT.OBJECT, bind: STB.GLOBAL, section: id });
  }

  // Relocations.
  const externs = new Map<string, SymbolHandle>();
  for (const fns of placed.values()) {
    for (const f of fns) {
      for (const r of f.spec.relocations ?? []) {
        const where = `${f.spec.name} insn ${r.insn}`;
        const insn = f.spec.insns[r.insn];
        if (insn === undefined) throw new ElfWriteError(where, 'relocation outside the function');
        const kind = insn.spec.kind;
        const type = r.type ?? (kind === 'lddw' ? R_BPF.R_BPF_64_64 : kind === 'call' ? R_BPF.R_BPF_64_32 : undefined);
        if (type === undefined)
          throw new ElfWriteError(where, `a ${kind} instruction needs an explicit relocation type`);
        let target: SymbolHandle | undefined;
        if (r.function) {
          if (kind !== 'lddw') throw new ElfWriteError(where, `a function address needs an lddw, not a ${kind}`);
          target = elf.sectionSymbol(sectionIds.get(addressed(f, r).section)!);
        } else if (r.section) {
          const id = sectionIds.get(r.symbol);
          if (id === undefined) throw new ElfWriteError(where, `no section '${r.symbol}' to relocate against`);
          target = elf.sectionSymbol(id);
        } else {
          target = symbols.get(r.symbol) ?? externs.get(r.symbol);
          if (target === undefined) {
            target = elf.addSymbol({
              name: r.symbol,
              value: 0,
              size: 0,
              type: STT.NOTYPE,
              bind: STB.GLOBAL,
              section: 'UND',
            });
            externs.set(r.symbol, target);
          }
        }
        elf.addReloc(sectionIds.get(f.section)!, f.offset + f.pcs[r.insn]! * 8, type, target);
      }
    }
  }

  // .BTF.ext from the functions, then .BTF.
  const defaultFile = spec.sourceFile ?? 'source';
  const all = [...placed.values()].flat();
  const anyLines = all.some((f) => (f.spec.lines?.length ?? 0) > 0);
  const ext: {
    funcInfo: BtfExtSection<FuncInfoRecord>[];
    lineInfo: BtfExtSection<LineInfoRecord>[];
    coreRelos: BtfExtSection<CoreReloRecord>[];
  } = {
    funcInfo: [],
    lineInfo: [],
    coreRelos: [],
  };
  for (const [section, fns] of placed) {
    const byteOf = (f: Placed, insn: number): number => f.offset + f.pcs[insn]! * 8;
    extSection(
      ext.funcInfo,
      section,
      fns.flatMap((f) => (f.btfFunc === undefined ? [] : [{ insnOff: f.offset, typeId: f.btfFunc }])),
    );
    extSection(
      ext.lineInfo,
      section,
      fns.flatMap((f) =>
        linesOf(f, defaultFile, anyLines && !verbatim).map((l) => ({
          insnOff: byteOf(f, l.insn),
          file: l.file ?? defaultFile,
          text: l.text ?? '',
          line: l.line,
          col: l.col ?? 0,
        })),
      ),
    );
    extSection(
      ext.coreRelos,
      section,
      fns.flatMap((f) =>
        (f.spec.coreRelos ?? []).map((c) => {
          if (f.spec.insns[c.insn] === undefined)
            throw new ElfWriteError(`${f.spec.name} insn ${c.insn}`, 'CO-RE record outside the function');
          return { insnOff: byteOf(f, c.insn), typeId: c.typeId, access: c.access, kind: c.kind };
        }),
      ),
    );
  }
  const btf = verbatim ?? b.build();
  try {
    const strings = new StringTableBuilder();
    const extBytes = encodeBtfExt(ext as BtfExt, order, strings);
    const btfBytes = encodeBtf(btf, order, strings);
    elf.addSection({ name: '.BTF', type: SHT.PROGBITS, flags: 0, data: btfBytes, align: 4 });
    if (ext.funcInfo.length + ext.lineInfo.length + ext.coreRelos.length > 0) {
      elf.addSection({ name: '.BTF.ext', type: SHT.PROGBITS, flags: 0, data: extBytes, align: 4 });
    }
  } catch (e) {
    if (e instanceof BtfError) throw new ElfWriteError('.BTF', e.detail);
    throw e;
  }
  return elf.build();
};
