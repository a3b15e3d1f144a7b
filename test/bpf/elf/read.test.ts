/**
 * readObject on clang-compiled objects, compared with llvm-readelf (sections, symbols, relocations)
 * and bpftool (BTF), in both byte orders, plus what libbpf makes of maps, globals and programs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORE_RELO_KIND_NAMES, formatBtf } from '../../../bpf/btf/index.ts';
import {
  type BpfObject,
  R_BPF,
  readObject,
  relocTypeName,
  SHN_ABS,
  sectionTypeName,
  STT,
  symbolBindName,
  symbolTypeName,
} from '../../../bpf/elf/index.ts';
import { CLANG_FIXTURES, compileFixture } from '../../support/clang.ts';
import { missingTool } from '../../support/env.ts';
import { bpftoolBtf, readelfRelocs, readelfSections, readelfSymbols } from './tools.ts';

const FIXTURES = ['elf_maps', 'elf_globals', 'elf_subprog', 'elf_multi', 'elf_btfkinds'] as const;
const ORDERS = [
  ['le', []],
  ['be', ['-target', 'bpfeb']],
] as const;

const compile = (name: string, flags: readonly string[] = []): { path: string; obj: BpfObject } => {
  const path = compileFixture(join(CLANG_FIXTURES, `${name}.c`), 'v3', flags);
  return { path, obj: readObject(readFileSync(path), { file: path }) };
};

const needClang = (): string | undefined => missingTool('clang', 'llvm-readelf', 'bpftool');

describe.each(ORDERS)('readObject on clang objects (%s)', (order, flags) => {
  it.for(FIXTURES)('%s: sections, symbols and relocations as llvm-readelf shows them', (name, ctx) => {
    const why = needClang();
    if (why) ctx.skip(why);
    const { path, obj } = compile(name, flags);
    expect(obj.order).toBe(order);
    expect(
      obj.sections.map((s) => ({
        index: s.index,
        name: s.name,
        type: sectionTypeName(s.type),
        offset: s.offset,
        size: s.size,
      })),
    ).toEqual(readelfSections(path));
    const ndx = (shndx: number): string => (shndx === 0 ? 'UND' : shndx === SHN_ABS ? 'ABS' : String(shndx));
    expect(
      obj.symbols.map((s) => ({
        value: s.value,
        size: s.size,
        type: symbolTypeName(s.type),
        bind: symbolBindName(s.bind),
        ndx: ndx(s.shndx),
        name: s.name,
      })),
    ).toEqual(readelfSymbols(path).map((s) => ({ ...s, name: s.name })));
    const theirs = readelfRelocs(path);
    expect(obj.relocations.map((r) => r.section.name)).toEqual([...theirs.keys()]);
    for (const r of obj.relocations) {
      expect(r.entries.map((e) => ({ offset: e.offset, type: relocTypeName(e.type), symbol: e.symbol.name }))).toEqual(
        theirs.get(r.section.name),
      );
    }
  });

  it.for(FIXTURES)('%s: BTF types as bpftool dumps them', (name, ctx) => {
    const why = needClang();
    if (why) ctx.skip(why);
    const { path, obj } = compile(name, flags);
    expect(obj.btf).toBeDefined();
    expect(formatBtf(obj.btf!)).toBe(bpftoolBtf(path));
  });

  it('maps of each kind, with sizes from __uint and from __type', (ctx) => {
    const why = needClang();
    if (why) ctx.skip(why);
    const { obj } = compile('elf_maps', flags);
    const summary = obj.maps.map((m) => [
      m.name,
      m.type,
      m.keySize,
      m.valueSize,
      m.maxEntries,
      m.flags,
      m.keyType !== undefined,
    ]);
    expect(summary).toEqual([
      ['counts', 2, 4, 16, 4, 0, true],
      ['by_pid', 1, 8, 4, 1024, 1, true],
      ['recent', 9, 4, 8, 64, 0, true],
      ['scratch', 6, 4, 16, 2, 0, false],
      ['events', 27, 0, 0, 4096, 0, false],
    ]);
    const section = obj.sections.find((s) => s.name === '.maps')!;
    for (const m of obj.maps) expect(m.offset + m.size).toBeLessThanOrEqual(section.size);
    const prog = obj.programs[0]!;
    expect(prog.relocations.map((r) => [r.symbol.name, relocTypeName(r.type), prog.insns[r.insn]!.spec.kind])).toEqual(
      ['counts', 'by_pid', 'recent', 'scratch', 'events'].map((n) => [n, 'R_BPF_64_64', 'lddw']),
    );
  });

  it('globals: .rodata/.data/.bss/.data.* contents, variables, license and version', (ctx) => {
    const why = needClang();
    if (why) ctx.skip(why);
    const { obj } = compile('elf_globals', flags);
    expect(obj.license).toBe('Dual BSD/GPL');
    expect(obj.version).toBe(0x050a00);
    const byName = new Map(obj.data.map((d) => [d.name, d]));
    expect([...byName.keys()].sort()).toEqual(['.bss', '.data', '.data.table', '.rodata', '.rodata.str1.1']);
    const rodata = byName.get('.rodata')!;
    const view = new DataView(rodata.bytes.buffer, rodata.bytes.byteOffset, rodata.bytes.length);
    expect(view.getUint32(0, order === 'le')).toBe(100);
    expect(view.getBigUint64(8, order === 'le')).toBe(0xff00ff00ff00ff00n);
    expect(rodata.vars.map((v) => [v.name, v.offset, v.size, v.global])).toEqual([
      ['cfg_limit', 0, 4, true],
      ['cfg_mask', 8, 8, true],
    ]);
    expect(byName.get('.bss')!.vars.map((v) => [v.name, v.global])).toEqual([
      ['counter', false],
      ['last_len', true],
    ]);
    expect(byName.get('.bss')!.bytes.length).toBe(0);
    expect(new TextDecoder().decode(byName.get('.rodata.str1.1')!.bytes)).toBe('too long %u\n\0');
    const vt = byName.get('.data.table')!.vars[0]!;
    expect(obj.btf!.types[vt.btfType!]!.kind).toBe('ARRAY');
    // The static counter is reached through the .bss section symbol with the offset in the insn.
    const prog = obj.programs[0]!;
    const viaSection = prog.relocations.filter((r) => r.symbol.type === STT.SECTION).map((r) => r.symbol.name);
    expect(viaSection).toEqual(['.rodata.str1.1', '.bss']);
  });

  it('subprograms in .text and R_BPF_64_32 call relocations', (ctx) => {
    const why = needClang();
    if (why) ctx.skip(why);
    const { obj } = compile('elf_subprog', flags);
    expect(obj.programs.map((p) => [p.name, p.section, p.global])).toEqual([
      ['prog_a', 'xdp', true],
      ['prog_b', 'tc', true],
    ]);
    expect(obj.subprograms.map((p) => [p.name, p.section, p.global, p.offset])).toEqual([
      ['global_helper', '.text', true, 0],
      ['mix', '.text', false, 88],
      ['twice', '.text', false, 128],
    ]);
    const a = obj.programs[0]!;
    expect(a.relocations.map((r) => [r.insn, r.type, r.symbol.name, a.insns[r.insn]!.spec.name])).toEqual([
      [2, R_BPF.R_BPF_64_32, 'global_helper', 'call_local'],
      [5, R_BPF.R_BPF_64_32, '.text', 'call_local'],
    ]);
    // func_info names each function's BTF FUNC; line_info starts at each function's first insn.
    for (const f of [...obj.programs, ...obj.subprograms]) {
      const func = obj.btf!.types[f.btfFunc!]!;
      expect([func.kind, func.name]).toEqual(['FUNC', f.name]);
      expect(f.lines[0]!.insn).toBe(0);
      expect(f.lines[0]!.file.endsWith('elf_subprog.c')).toBe(true);
    }
  });

  it('several programs in several sections, two sharing one', (ctx) => {
    const why = needClang();
    if (why) ctx.skip(why);
    const { obj } = compile('elf_multi', flags);
    expect(obj.programs.map((p) => [p.name, p.section, p.offset, p.insns.length])).toEqual([
      ['xdp_pass', 'xdp', 0, 11],
      ['xdp_drop', 'xdp', 96, 2],
      ['sock_all', 'socket', 0, 12],
      ['probe_open', 'kprobe/do_sys_open', 0, 11],
      ['tp_exec', 'tracepoint/syscalls/sys_enter_execve', 0, 2],
    ]);
    expect(obj.subprograms).toEqual([]);
    expect(obj.maps.map((m) => m.name)).toEqual(['seen']);
  });

  it('BTF kinds, decl/type tags and CO-RE relocation records', (ctx) => {
    const why = needClang();
    if (why) ctx.skip(why);
    const { obj } = compile('elf_btfkinds', flags);
    const kinds = new Set(obj.btf!.types.map((t) => t.kind));
    for (const k of [
      'INT',
      'PTR',
      'ARRAY',
      'STRUCT',
      'UNION',
      'ENUM',
      'FWD',
      'TYPEDEF',
      'VOLATILE',
      'CONST',
      'RESTRICT',
    ]) {
      expect(kinds).toContain(k);
    }
    for (const k of ['FUNC', 'FUNC_PROTO', 'VAR', 'DATASEC', 'FLOAT', 'DECL_TAG', 'TYPE_TAG'])
      expect(kinds).toContain(k);
    const prog = obj.programs[0]!;
    expect(prog.coreRelos.length).toBeGreaterThan(0);
    const rec = obj.btf!.types.find((t) => t.kind === 'STRUCT' && t.name === 'rec');
    expect(rec).toBeDefined();
    for (const c of prog.coreRelos) {
      expect(CORE_RELO_KIND_NAMES[c.kind]).toBeDefined();
      expect(c.access).toMatch(/^\d+(:\d+)*$/);
      expect(prog.insns[c.insn]).toBeDefined();
    }
    // `__builtin_preserve_field_info(r->b, 0)` is a FIELD_BYTE_OFFSET record on member 1 of struct rec.
    expect(prog.coreRelos.some((c) => c.access === '0:1' && c.kind === 0)).toBe(true);
    expect(obj.maps[0]!.keySize).toBe(4);
    expect(obj.maps[0]!.valueSize).toBe(64);
  });
});
