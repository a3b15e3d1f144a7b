/** What `readObject` returns: the ELF container plus its BPF meaning (programs, maps, globals, BTF). */
import type { BtfExt } from '../btf/ext.ts';
import type { DecodedBtf } from '../btf/types.ts';
import type { ByteOrder, Insn } from '../isa/index.ts';
import type { ElfRelSection, ElfSection, ElfSymbol } from './file.ts';

/** A relocation inside a function, tied to the instruction it patches. */
export interface FunctionReloc {
  /** Index into the function's `insns`. */
  readonly insn: number;
  /** Byte offset in the section. */
  readonly offset: number;
  /** R_BPF_* */
  readonly type: number;
  readonly symbol: ElfSymbol;
}

/** A .BTF.ext line_info record of one function. */
export interface LineInfo {
  /** Index into the function's `insns`. */
  readonly insn: number;
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** The source line's text. */
  readonly text: string;
}

/** A .BTF.ext CO-RE relocation record of one function. */
export interface CoreRelo {
  readonly insn: number;
  readonly typeId: number;
  readonly access: string;
  /** CORE_RELO_KIND_NAMES index. */
  readonly kind: number;
}

/** A function: a program (global, in its SEC section) or a subprogram (in .text). */
export interface BpfFunction {
  readonly name: string;
  /** The ELF section, i.e. the SEC() name for programs. */
  readonly section: string;
  /** Byte offset in the section. */
  readonly offset: number;
  readonly size: number;
  readonly global: boolean;
  readonly insns: readonly Insn[];
  readonly relocations: readonly FunctionReloc[];
  /** BTF FUNC id from func_info, when the object has .BTF.ext. */
  readonly btfFunc: number | undefined;
  readonly lines: readonly LineInfo[];
  readonly coreRelos: readonly CoreRelo[];
}

/** A map definition as libbpf reads a BTF-defined map (`__uint` / `__type` members). */
export interface BpfMapDef {
  /** BPF_MAP_TYPE_* */
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** BTF ids of `__type(key, T)` / `__type(value, T)`; undefined when given as sizes. */
  readonly keyType: number | undefined;
  readonly valueType: number | undefined;
  readonly pinning: number;
  readonly mapExtra: number;
  readonly numaNode: number;
  /** The inner map of a map-in-map (`__array(values, struct {...})`). */
  readonly inner: BpfMapDef | undefined;
}

export interface BpfMap extends BpfMapDef {
  readonly name: string;
  /** Offset and size of the definition in `.maps`. */
  readonly offset: number;
  readonly size: number;
  /** The BTF VAR describing the map. */
  readonly btfVar: number;
}

export interface DataVar {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly global: boolean;
  /** The variable's BTF type (from the DATASEC of its section), when described. */
  readonly btfType: number | undefined;
}

/** A global-data section (.data, .rodata, .bss and their .name variants): one array map each in libbpf. */
export interface DataSection {
  readonly name: string;
  readonly kind: 'data' | 'rodata' | 'bss';
  readonly size: number;
  /** Contents; empty for .bss (NOBITS). */
  readonly bytes: Uint8Array;
  readonly vars: readonly DataVar[];
}

export interface BpfObject {
  readonly file: string | undefined;
  readonly order: ByteOrder;
  readonly sections: readonly ElfSection[];
  readonly symbols: readonly ElfSymbol[];
  readonly relocations: readonly ElfRelSection[];
  /** Global functions in executable sections other than .text, in section then offset order. */
  readonly programs: readonly BpfFunction[];
  /** Functions in .text (and static functions elsewhere). */
  readonly subprograms: readonly BpfFunction[];
  readonly license: string | undefined;
  readonly version: number | undefined;
  readonly maps: readonly BpfMap[];
  readonly data: readonly DataSection[];
  readonly btf: DecodedBtf | undefined;
  readonly btfExt: BtfExt | undefined;
}

/** The data-section kind a section name denotes, or undefined. */
export const dataKindOf = (name: string): DataSection['kind'] | undefined => {
  const m = /^\.(data|rodata|bss)(\..+)?$/.exec(name);
  return m ? (m[1] as DataSection['kind']) : undefined;
};

export const MAPS_SECTION = '.maps';
export const LICENSE_SECTION = 'license';
export const VERSION_SECTION = 'version';
export const TEXT_SECTION = '.text';
