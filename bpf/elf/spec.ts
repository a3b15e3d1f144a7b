/**
 * What `writeObject` takes. Two modes:
 * - synthesized BTF (no `btf`): the writer describes maps (libbpf `__uint` encoding), global data
 *   and functions in BTF itself, and emits func_info/line_info from the functions' `lines`;
 * - verbatim BTF (`btf` given, e.g. read from a clang object): types are written as given, maps must
 *   be described by its `.maps` DATASEC, and functions name their FUNC type in `btfFunc`.
 */
import type { Btf } from '../btf/types.ts';
import type { Insn } from '../isa/index.ts';
import type { MapDefSpec } from './maps.ts';
import { STT } from './constants.ts';
import type { BpfFunction, BpfObject } from './object.ts';

export interface RelocSpec {
  /** Index into the function's `insns`. */
  readonly insn: number;
  /** A function, map or variable name; a section name when `section` is set; otherwise an extern. */
  readonly symbol: string;
  /** Relocate against the section symbol of section `symbol` (the addend is in the instruction). */
  readonly section?: boolean;
  /**
   * An lddw of the function `symbol`'s address (a callback): relocated, as clang does, against the
   * section symbol of the function's section with the function's byte offset in the instruction.
   */
  readonly function?: boolean;
  /** R_BPF_*; default R_BPF_64_64 on lddw, R_BPF_64_32 on call. */
  readonly type?: number;
}

export interface LineSpec {
  /** Index into the function's `insns`. */
  readonly insn: number;
  readonly line: number;
  readonly col?: number;
  /** Source file; default the spec's `sourceFile`. */
  readonly file?: string;
  /** The source line's text. */
  readonly text?: string;
}

export interface CoreReloSpec {
  readonly insn: number;
  readonly typeId: number;
  readonly access: string;
  readonly kind: number;
}

export interface FunctionParam {
  readonly name: string;
  /** `void *` when set, else a 64-bit integer. */
  readonly pointer?: boolean;
}

export interface FunctionSpec {
  readonly name: string;
  /** ELF section: the SEC() name of a program; subprograms default to `.text`. */
  readonly section?: string;
  readonly insns: readonly Insn[];
  /** Subprograms are static unless set; programs are always global. */
  readonly global?: boolean;
  readonly relocations?: readonly RelocSpec[];
  /** line_info; when any function has lines, every function gets a record at its first instruction. */
  readonly lines?: readonly LineSpec[];
  /** Synthesized BTF only: the prototype's parameters (programs default to `void *ctx`). */
  readonly params?: readonly FunctionParam[];
  /** Synthesized BTF only: the return type. */
  readonly returns?: 'int' | 'long' | 'void';
  /** Verbatim BTF only: the FUNC type for func_info. */
  readonly btfFunc?: number;
  /** Verbatim BTF only: CO-RE relocation records. */
  readonly coreRelos?: readonly CoreReloSpec[];
}

export interface MapSpec extends MapDefSpec {
  readonly name: string;
}

export interface DataVarSpec {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  /** Global (default) or static. */
  readonly global?: boolean;
}

export interface DataSpec {
  /** `.data`, `.rodata`, `.bss` or a `.data.<x>` / `.rodata.<x>` / `.bss.<x>` variant. */
  readonly name: string;
  /** Contents (not for .bss). */
  readonly bytes?: Uint8Array;
  /** Size of a .bss section. */
  readonly size?: number;
  readonly vars?: readonly DataVarSpec[];
}

export interface BpfObjectSpec {
  readonly programs: readonly FunctionSpec[];
  readonly subprograms?: readonly FunctionSpec[];
  readonly maps?: readonly MapSpec[];
  readonly data?: readonly DataSpec[];
  readonly license: string;
  readonly version?: number;
  /** Verbatim BTF (see the module comment). */
  readonly btf?: Btf;
  /** Default file name of line records (synthesized BTF). */
  readonly sourceFile?: string;
}

const functionSpec = (f: BpfFunction): FunctionSpec => ({
  name: f.name,
  section: f.section,
  insns: f.insns,
  global: f.global,
  relocations: f.relocations.map((r) => {
    const section = r.symbol.type === STT.SECTION;
    return {
      insn: r.insn,
      symbol: section ? (r.symbol.section ?? r.symbol.name) : r.symbol.name,
      section,
      type: r.type,
    };
  }),
  lines: f.lines.map((l) => ({ insn: l.insn, line: l.line, col: l.col, file: l.file, text: l.text })),
  ...(f.btfFunc === undefined ? {} : { btfFunc: f.btfFunc }),
  coreRelos: f.coreRelos,
});

/**
 * The spec that writes an object equivalent to one read: same programs, subprograms, relocations,
 * maps, global data, license/version and BTF (types verbatim; .BTF.ext regenerated from the
 * per-function records). DWARF and other sections are not carried over.
 */
export const specOf = (obj: BpfObject): BpfObjectSpec => ({
  programs: obj.programs.map(functionSpec),
  subprograms: obj.subprograms.map(functionSpec),
  maps: obj.maps.map((m) => ({
    name: m.name,
    type: m.type,
    maxEntries: m.maxEntries,
    flags: m.flags,
    keySize: m.keySize,
    valueSize: m.valueSize,
    ...(m.keyType === undefined ? {} : { keyType: m.keyType }),
    ...(m.valueType === undefined ? {} : { valueType: m.valueType }),
    pinning: m.pinning,
    mapExtra: m.mapExtra,
    numaNode: m.numaNode,
  })),
  data: obj.data.map((d) => ({
    name: d.name,
    ...(d.kind === 'bss' ? { size: d.size } : { bytes: d.bytes.slice() }),
    vars: d.vars.map((v) => ({ name: v.name, offset: v.offset, size: v.size, global: v.global })),
  })),
  license: obj.license ?? '',
  ...(obj.version === undefined ? {} : { version: obj.version }),
  ...(obj.btf === undefined ? {} : { btf: { types: obj.btf.types } }),
});
