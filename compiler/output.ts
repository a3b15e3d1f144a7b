/**
 * What the compiler writes: a BPF ELF object (bpf/elf: programs, license, BTF maps, .rodata, line_info
 * with the TypeScript lines), raw instructions, an annotated listing, and the linked form the
 * verifier and the VM load (map references as lddw map_idx / map_idx_value).
 */
import { BPF_MAP_TYPE } from '../bpf/abi/map-types.ts';
import { llvmInsnText } from '../bpf/asm/llvm/index.ts';
import { type BpfObjectSpec, type LineSpec, writeObject } from '../bpf/elf/index.ts';
import { encode, type Insn, LdImmSrc, lddw, slotIndex } from '../bpf/isa/index.ts';
import type { CompiledProgram, CompileOutput } from './compile.ts';

/** BPF_F_RDONLY_PROG: .rodata is read-only for programs (libbpf creates it so). */
const BPF_F_RDONLY_PROG = 0x80;

const lineSpecs = (out: CompileOutput, p: CompiledProgram): LineSpec[] => {
  const lines: LineSpec[] = [];
  let last = -1;
  p.locs.forEach((loc, insn) => {
    if (loc === undefined || loc.line === last) return;
    last = loc.line;
    lines.push({ insn, line: loc.line, col: loc.col, text: out.lines[loc.line - 1] ?? '' });
  });
  return lines;
};

const functionSpec = (out: CompileOutput, p: CompiledProgram) => ({
  name: p.name,
  insns: p.insns,
  relocations: p.relocs.map((r) => ({
    insn: r.insn,
    symbol: r.symbol,
    ...(r.section ? { section: true } : {}),
    ...(r.funcAddr ? { function: true } : {}),
  })),
  lines: lineSpecs(out, p),
  returns: 'int' as const,
});

export const objectSpec = (out: CompileOutput): BpfObjectSpec => ({
  programs: out.programs.map((p) => ({ ...functionSpec(out, p), section: p.section })),
  // noinline functions: static, in .text, called through R_BPF_64_32 relocations
  subprograms: out.subprograms.map((p) => ({
    ...functionSpec(out, p),
    params: (p.params ?? []).map((name) => ({ name })),
  })),
  maps: out.maps.map((m) => ({
    name: m.name,
    type: m.type,
    maxEntries: m.maxEntries,
    ...(m.kind === 'ringbuf' ? {} : { keySize: m.keySize, valueSize: m.valueSize }),
  })),
  data: out.rodata.length > 0 ? [{ name: '.rodata', bytes: out.rodata }] : [],
  license: out.license,
  sourceFile: out.file,
});

export const writeElf = (out: CompileOutput): Uint8Array => writeObject(objectSpec(out));

export const rawBytes = (p: CompiledProgram): Uint8Array => encode(p.insns);

/** The listing: source lines as comments above the instructions they produced. */
export const listing = (out: CompileOutput): string => {
  const text: string[] = [];
  for (const p of [...out.programs, ...out.subprograms]) {
    text.push(`${p.name}:  ; section ${p.section}, ${p.insns.length} insns, stack ${p.stackSize} bytes`);
    const { pcs } = slotIndex(p.insns);
    let last = -1;
    p.insns.forEach((insn, i) => {
      const loc = p.locs[i];
      if (loc !== undefined && loc.line !== last) {
        last = loc.line;
        text.push(`; ${loc.line}: ${(out.lines[loc.line - 1] ?? '').trim()}`);
      }
      const reloc = p.relocs.find((r) => r.insn === i);
      const pc = pcs[i] as number;
      text.push(`${String(pc).padStart(5)}: ${llvmInsnText(insn, pc)}${reloc ? `  ; ${reloc.symbol}` : ''}`);
    });
    text.push('');
  }
  return text.join('\n');
};

/** A map as a loader creates it: the file's maps, then `.rodata` (read-only, frozen, with contents). */
export interface LinkedMap {
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags?: number;
  readonly frozen?: boolean;
  readonly data?: Uint8Array;
}

export const linkedMaps = (out: CompileOutput): LinkedMap[] => [
  ...out.maps.map((m) => ({
    name: m.name,
    type: m.type,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
  })),
  ...(out.rodata.length > 0
    ? [
        {
          name: '.rodata',
          type: BPF_MAP_TYPE.ARRAY,
          keySize: 4,
          valueSize: out.rodata.length,
          maxEntries: 1,
          flags: BPF_F_RDONLY_PROG,
          frozen: true,
          data: out.rodata,
        },
      ]
    : []),
];

/** The program, then the subprograms it calls or takes the address of (transitively), in link order. */
const linkedFunctions = (out: CompileOutput, p: CompiledProgram): CompiledProgram[] => {
  const fns: CompiledProgram[] = [p];
  for (let k = 0; k < fns.length; k++)
    for (const r of (fns[k] as CompiledProgram).relocs) {
      const callee = r.call || r.funcAddr ? out.subprograms.find((x) => x.name === r.symbol) : undefined;
      if (callee !== undefined && !fns.includes(callee)) fns.push(callee);
    }
  return fns;
};

/**
 * The BTF linkage of each function of `linkedInsns(out, p)` (what func_info gives the verifier): the
 * program global, its subprograms static.
 */
export const linkedFuncLinkage = (out: CompileOutput, p: CompiledProgram): ('static' | 'global')[] =>
  linkedFunctions(out, p).map((_, i) => (i === 0 ? 'global' : 'static'));

/**
 * Instructions with relocations resolved to map indexes into `linkedMaps(out)`, followed by the
 * subprograms the program calls (transitively), each call's imm set to its callee's distance.
 */
export const linkedInsns = (out: CompileOutput, p: CompiledProgram): Insn[] => {
  const maps = linkedMaps(out);
  const fns = linkedFunctions(out, p);
  const insns: Insn[] = [];
  const firstInsn = new Map<string, number>();
  const calls: { at: number; symbol: string; addr: boolean }[] = [];
  for (const fn of fns) {
    const base = insns.length;
    firstInsn.set(fn.name, base);
    insns.push(...fn.insns);
    for (const r of fn.relocs) {
      const at = base + r.insn;
      const i = insns[at] as Insn;
      if (r.call || r.funcAddr) calls.push({ at, symbol: r.symbol, addr: r.funcAddr === true });
      else if (r.section) {
        const idx = maps.findIndex((m) => m.name === '.rodata');
        insns[at] = { ...lddw(i.dst, 0n, LdImmSrc.MAP_IDX_VALUE), imm: idx, imm2: i.imm };
      } else {
        const idx = maps.findIndex((m) => m.name === r.symbol);
        insns[at] = { ...lddw(i.dst, 0n, LdImmSrc.MAP_IDX), imm: idx };
      }
    }
  }
  const { pcs } = slotIndex(insns);
  for (const c of calls) {
    const target = pcs[firstInsn.get(c.symbol) as number] as number;
    const i = insns[c.at] as Insn;
    const imm = target - (pcs[c.at] as number) - 1;
    insns[c.at] = c.addr ? { ...lddw(i.dst, 0n, LdImmSrc.FUNC), imm } : { ...i, imm };
  }
  return insns;
};
