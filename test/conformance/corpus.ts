/**
 * Loading the bpf_conformance corpus: listing `tests/` and `negative/`, parsing each `.data` file,
 * and turning it into instructions the way the reference runner does (raw if present, else the
 * assembly). Runners and stages (assembly checks now, execution later) build on these functions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AsmError } from '../../bpf/asm/errors.ts';
import type { AsmProgram } from '../../bpf/asm/program.ts';
import { assembleUbpf } from '../../bpf/asm/ubpf/index.ts';
import { decodeRaw, decodeSlots, encode, type Insn, IsaError } from '../../bpf/isa/index.ts';
import { type AsmSection, type DataFile, DataFileError, parseDataFile } from './data-file.ts';

/** The corpus folders: conformance tests, and negative cases (assembler errors, unused fields). */
export const GROUPS = ['tests', 'negative'] as const;
export type Group = (typeof GROUPS)[number];

export interface CorpusCase {
  readonly group: Group;
  /** File name, e.g. `add.data`. */
  readonly name: string;
  readonly path: string;
  /** The parsed file, or why it could not be parsed. */
  readonly data: DataFile | DataFileError;
}

/** Every `.data` file of one group, sorted by name; [] if the folder does not exist. */
export const listGroup = (dir: string, group: Group): string[] => {
  try {
    return readdirSync(join(dir, group))
      .filter((n) => n.endsWith('.data'))
      .sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
};

export const loadCase = (dir: string, group: Group, name: string): CorpusCase => {
  const path = join(dir, group, name);
  const text = readFileSync(path, 'utf8');
  try {
    return { group, name, path, data: parseDataFile(text) };
  } catch (e) {
    if (e instanceof DataFileError) return { group, name, path, data: e };
    throw e;
  }
};

/** The whole corpus under `dir` (a folder holding `tests/` and `negative/`). */
export const loadCorpus = (dir: string, filter?: RegExp): CorpusCase[] =>
  GROUPS.flatMap((group) =>
    listGroup(dir, group)
      .filter((name) => filter === undefined || filter.test(`${group}/${name}`))
      .map((name) => loadCase(dir, group, name)),
  );

/** Instructions of a test, or why there are none. */
export type Build =
  | {
      readonly kind: 'program';
      readonly from: 'asm' | 'raw';
      readonly insns: readonly Insn[];
      /** Wire bytes (little-endian), as a plugin receives them. */
      readonly bytes: Uint8Array;
    }
  | { readonly kind: 'no-instructions' }
  | { readonly kind: 'asm-error'; readonly error: AsmError }
  | { readonly kind: 'decode-error'; readonly error: IsaError };

/** Assembles a file's `-- asm` section; diagnostics carry the `.data` file's line numbers. */
export const assembleSection = (asm: AsmSection, file: string): AsmProgram | AsmError => {
  try {
    return assembleUbpf(asm.text, { file });
  } catch (e) {
    if (e instanceof AsmError) return e;
    throw e;
  }
};

/** Decodes wire bytes with the instruction layer's checks (unused fields, registers, lddw pairs). */
export const decodeBytes = (bytes: Uint8Array): Insn[] | IsaError => {
  try {
    return decodeRaw(decodeSlots(bytes));
  } catch (e) {
    if (e instanceof IsaError) return e;
    throw e;
  }
};

/** The program the reference runner would run: `-- raw` if present, else `-- asm`. */
export const buildProgram = (data: DataFile, file: string): Build => {
  if (data.raw !== undefined) {
    const insns = decodeBytes(data.raw.bytes);
    if (insns instanceof IsaError) return { kind: 'decode-error', error: insns };
    return insns.length === 0
      ? { kind: 'no-instructions' }
      : { kind: 'program', from: 'raw', insns, bytes: data.raw.bytes };
  }
  if (data.asm === undefined) return { kind: 'no-instructions' };
  const program = assembleSection(data.asm, file);
  if (program instanceof AsmError) return { kind: 'asm-error', error: program };
  if (program.insns.length === 0) return { kind: 'no-instructions' };
  return { kind: 'program', from: 'asm', insns: program.insns, bytes: encode(program.insns) };
};
