/** Typed errors of the BPF ELF layer: every rejection names a code, a file byte offset and a section. */
import type { BtfErrorCode } from '../btf/errors.ts';

export type ElfErrorCode =
  /** a header or table runs past the end of the file */
  | 'TRUNCATED'
  /** not an ELF file, or not ELF64 / a known byte order / version 1 */
  | 'BAD_HEADER'
  /** an ELF file that is not a relocatable eBPF object (ET_REL, EM_BPF) */
  | 'NOT_BPF'
  /** a section header with out-of-range offset/size/link/info, or a bad table entry size */
  | 'BAD_SECTION'
  /** a name offset outside its string table, or a name without NUL */
  | 'BAD_STRING'
  /** a symbol whose section index or extent is invalid */
  | 'BAD_SYMBOL'
  /** a relocation past its section, off an instruction boundary, of an unknown type, or with a bad symbol */
  | 'BAD_RELOCATION'
  /** program bytes that do not decode as instructions */
  | 'BAD_INSN'
  /** a BTF-defined map the way libbpf would reject it */
  | 'BAD_MAP'
  /** .BTF.ext records that do not fit the programs they describe */
  | 'BAD_BTF_EXT'
  | BtfErrorCode;

export class ElfError extends Error {
  override readonly name = 'ElfError';
  readonly code: ElfErrorCode;
  /** Byte offset in the file. */
  readonly offset: number;
  /** Section the offset is in, when known. */
  readonly section: string | undefined;
  readonly detail: string;
  constructor(code: ElfErrorCode, offset: number, detail: string, section?: string, options?: { cause?: unknown }) {
    super(`${section === undefined ? '' : `section ${section}: `}offset 0x${offset.toString(16)}: ${detail}`, options);
    this.code = code;
    this.offset = offset;
    this.section = section;
    this.detail = detail;
  }
}

/** Errors the writer raises for a spec it cannot turn into an object (a program bug, not bad input). */
export class ElfWriteError extends Error {
  override readonly name = 'ElfWriteError';
  readonly code: 'BAD_SPEC';
  /** What the problem is in: a program, map or section name, with an instruction index where relevant. */
  readonly where: string;
  constructor(where: string, detail: string) {
    super(`${where}: ${detail}`);
    this.code = 'BAD_SPEC';
    this.where = where;
  }
}
