/**
 * Test support for the disassembler differential tests: executable sections of a BPF object (read
 * with bpf/elf), and llvm-objdump's per-instruction text of the same object.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { SectionContext } from '../../../bpf/asm/llvm/index.ts';
import { readElf, SHF, STT } from '../../../bpf/elf/index.ts';
import { decode, type Insn } from '../../../bpf/isa/index.ts';
import { findTool } from '../../support/env.ts';

export interface CodeSection {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly insns: readonly Insn[];
  /** What llvm-objdump knows: the section's own symbols (no section/file symbols). */
  readonly context: SectionContext;
  /** Function symbols (programs and subprograms) of the section. */
  readonly functions: readonly { readonly name: string; readonly offset: number; readonly size: number }[];
}

/** The non-empty executable sections of an object, decoded. */
export const codeSections = (path: string): CodeSection[] => {
  const elf = readElf(new Uint8Array(readFileSync(path)));
  return elf.sections
    .filter((s) => (s.flags & SHF.EXECINSTR) !== 0 && s.size > 0)
    .map((s) => {
      const own = elf.symbols.filter((y) => y.shndx === s.index && y.name !== '');
      const symbols = own
        .filter((y) => y.type !== STT.SECTION && y.type !== STT.FILE)
        .map((y) => ({ name: y.name, offset: y.value }));
      const functions = own
        .filter((y) => y.type === STT.FUNC)
        .map((y) => ({ name: y.name, offset: y.value, size: y.size }));
      return { name: s.name, bytes: s.data, insns: decode(s.data), context: { section: s.name, symbols }, functions };
    });
};

/**
 * llvm-objdump -d's instruction text per object and section (the column after the bytes), in order.
 * One llvm-objdump run for all objects: spawning it per object dominates the test's time.
 */
export const objdumpTexts = (paths: readonly string[], alu32: boolean): Map<string, Map<string, string[]>> => {
  const tool = findTool('llvm-objdump');
  if (tool === undefined) throw new Error('llvm-objdump is not installed');
  const out = new Map<string, Map<string, string[]>>();
  if (paths.length === 0) return out;
  const args = ['-d', ...(alu32 ? ['--mattr=+alu32'] : []), ...paths];
  const r = spawnSync(tool, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`llvm-objdump failed: ${r.stderr}`);
  let file: Map<string, string[]> | undefined;
  let current: string[] | undefined;
  for (const line of r.stdout.split('\n')) {
    const header = /^(.*):\tfile format /.exec(line);
    const section = /^Disassembly of section (.+):$/.exec(line);
    if (header !== null) {
      file = new Map();
      out.set(header[1] as string, file);
      current = undefined;
    } else if (section !== null && file !== undefined) {
      current = [];
      file.set(section[1] as string, current);
    } else if (current !== undefined && /^\s*\d+:\t/.test(line)) {
      // address \t bytes \t text (ld_pseudo's text has a tab of its own)
      current.push(line.split('\t').slice(2).join('\t'));
    }
  }
  return out;
};

/**
 * Fixtures that need -mcpu=v3: their 32-bit atomics other than add do not exist below v3, and clang 14
 * refuses to compile them for v1/v2 ("Unsupported atomic operations"). The tests assert that refusal.
 */
export const V3_ONLY: ReadonlySet<string> = new Set(['atomics_c11.c', 'atomics_sync.c']);
