/** ELF64 constants a BPF object uses (System V gABI, and the BPF psABI relocation numbers). */

export const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;
export const EV_CURRENT = 1;
export const ET_REL = 1;
export const EM_BPF = 247;

export const EHDR_BYTES = 64;
export const SHDR_BYTES = 64;
export const SYM_BYTES = 24;
export const REL_BYTES = 16;
export const RELA_BYTES = 24;

/** Special section indices. */
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

export const SHT = {
  NULL: 0,
  PROGBITS: 1,
  SYMTAB: 2,
  STRTAB: 3,
  RELA: 4,
  HASH: 5,
  DYNAMIC: 6,
  NOTE: 7,
  NOBITS: 8,
  REL: 9,
  SYMTAB_SHNDX: 18,
  LLVM_ADDRSIG: 0x6fff4c03,
} as const;

export const SHF = {
  WRITE: 0x1,
  ALLOC: 0x2,
  EXECINSTR: 0x4,
  MERGE: 0x10,
  STRINGS: 0x20,
  INFO_LINK: 0x40,
  EXCLUDE: 0x80000000,
} as const;

export const STB = { LOCAL: 0, GLOBAL: 1, WEAK: 2 } as const;
export const STT = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 } as const;
export const STV = { DEFAULT: 0, INTERNAL: 1, HIDDEN: 2, PROTECTED: 3 } as const;

/** BPF relocation types (llvm BPFELFObjectWriter / the kernel's BPF LLVM relocations doc). */
export const R_BPF = {
  NONE: 0,
  /** lddw: S + A into the two imm fields (maps, globals). */
  R_BPF_64_64: 1,
  /** 64-bit data. */
  R_BPF_64_ABS64: 2,
  /** 32-bit data (DWARF). */
  R_BPF_64_ABS32: 3,
  /** 32-bit data in .BTF/.BTF.ext that a dynamic loader leaves alone. */
  R_BPF_64_NODYLD32: 4,
  /** call imm: (S + A) / 8 - 1 (bpf-to-bpf calls, kfuncs). */
  R_BPF_64_32: 10,
} as const;

const RELOC_NAMES = new Map<number, string>(
  Object.entries(R_BPF).map(([k, v]) => [v, k === 'NONE' ? 'R_BPF_NONE' : k]),
);

/** llvm-readelf's name for a BPF relocation type. */
export const relocTypeName = (type: number): string => RELOC_NAMES.get(type) ?? `unknown (${type})`;
export const isKnownRelocType = (type: number): boolean => RELOC_NAMES.has(type);

const SHT_NAMES = new Map<number, string>(Object.entries(SHT).map(([k, v]) => [v, k]));
/** llvm-readelf's name for a section type. */
export const sectionTypeName = (type: number): string => SHT_NAMES.get(type) ?? `0x${type.toString(16)}`;

const STT_NAMES = ['NOTYPE', 'OBJECT', 'FUNC', 'SECTION', 'FILE'];
const STB_NAMES = ['LOCAL', 'GLOBAL', 'WEAK'];
export const symbolTypeName = (t: number): string => STT_NAMES[t] ?? `${t}`;
export const symbolBindName = (b: number): string => STB_NAMES[b] ?? `${b}`;
