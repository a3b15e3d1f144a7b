/**
 * writeObject: objects llvm-readelf, llvm-objdump, bpftool and the kernel accept; round trips through
 * readObject, for our own spec and for clang objects read and written back.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatBtf } from '../../../bpf/btf/index.ts';
import {
  type BpfFunction,
  type BpfObject,
  ElfWriteError,
  readObject,
  relocTypeName,
  sectionTypeName,
  specOf,
  writeObject,
} from '../../../bpf/elf/index.ts';
import { encode, insnNamed, sameInsn } from '../../../bpf/isa/index.ts';
import { CLANG_FIXTURES, compileFixture } from '../../support/clang.ts';
import { missingBpf, missingTool } from '../../support/env.ts';
import { sampleSpec } from './sample.ts';
import { bpftoolBtf, objdump, readelfRelocs, readelfSections, readelfSymbols, run } from './tools.ts';

const dir = mkdtempSync(join(tmpdir(), 'ukibpf-elf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const save = (name: string, bytes: Uint8Array): string => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};

/** What must survive a round trip of one function. */
const fnView = (f: BpfFunction) => ({
  name: f.name,
  section: f.section,
  offset: f.offset,
  size: f.size,
  global: f.global,
  code: Buffer.from(encode(f.insns)).toString('hex'),
  relocations: f.relocations.map((r) => [r.insn, r.offset, relocTypeName(r.type), r.symbol.name]),
  lines: f.lines,
  coreRelos: f.coreRelos,
  btfFunc: f.btfFunc,
});

/** What must survive a round trip of an object. */
const objView = (o: BpfObject) => ({
  programs: o.programs.map(fnView),
  subprograms: o.subprograms.map(fnView),
  maps: o.maps,
  data: o.data.map((d) => ({ ...d, bytes: Buffer.from(d.bytes).toString('hex') })),
  license: o.license,
  version: o.version,
  btf: o.btf === undefined ? undefined : formatBtf(o.btf),
  codeRelocs: o.relocations
    .filter((r) => !r.target.name.startsWith('.debug') && !r.target.name.startsWith('.BTF'))
    .map((r) => [r.target.name, r.entries.map((e) => [e.offset, relocTypeName(e.type), e.symbol.name])]),
});

describe('writeObject: the sample object (XDP, array map, ringbuf, .rodata, subprogram, line info)', () => {
  it.each(['le', 'be'] as const)('reads back what was written (%s)', (order) => {
    const spec = sampleSpec();
    const obj = readObject(writeObject(spec, { order }));
    expect(obj.order).toBe(order);
    expect(obj.license).toBe('GPL');
    const prog = obj.programs[0]!;
    expect([prog.name, prog.section, prog.global, prog.size]).toEqual(['xdp_count', 'xdp', true, 23 * 8]);
    const want = spec.programs[0]!.insns;
    expect(prog.insns.length).toBe(want.length);
    expect(prog.insns.map((insn, i) => sameInsn(insn, want[i]!))).toEqual(want.map(() => true));
    expect(prog.relocations.map((r) => [r.insn, relocTypeName(r.type), r.symbol.name])).toEqual([
      [3, 'R_BPF_64_64', 'counts'],
      [8, 'R_BPF_64_64', 'events'],
      [14, 'R_BPF_64_32', 'answer'],
    ]);
    expect(prog.lines.map((l) => [l.insn, l.file, l.line, l.col, l.text])).toEqual(
      spec.programs[0]!.lines!.map((l) => [l.insn, 'sample.ts', l.line, l.col, l.text]),
    );
    expect(obj.subprograms.map((s) => [s.name, s.section, s.global, s.relocations[0]!.symbol.name])).toEqual([
      ['answer', '.text', false, 'limit'],
    ]);
    expect(obj.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries, m.offset, m.size])).toEqual([
      ['counts', 2, 4, 8, 4, 0, 32],
      ['events', 27, 0, 0, 4096, 32, 16],
      ['seen', 1, 8, 4, 64, 48, 40],
    ]);
    expect(obj.maps[2]!.flags).toBe(1);
    expect(obj.data.map((d) => [d.name, d.size, d.vars.map((v) => v.name)])).toEqual([['.rodata', 8, ['limit']]]);
    // Each function has a FUNC with the right linkage, and the DATASECs carry real sizes.
    const btf = obj.btf!;
    expect(btf.types[prog.btfFunc!]).toMatchObject({ kind: 'FUNC', name: 'xdp_count', linkage: 1 });
    expect(btf.types[obj.subprograms[0]!.btfFunc!]).toMatchObject({ kind: 'FUNC', name: 'answer', linkage: 0 });
    expect(btf.types.find((t) => t.kind === 'DATASEC' && t.name === '.maps')).toMatchObject({ size: 88 });
  });

  it.for(['le', 'be'] as const)(
    'llvm-readelf -a and llvm-objdump -d accept it and agree with readObject (%s)',
    (order, ctx) => {
      const why = missingTool('llvm-readelf', 'llvm-objdump');
      if (why) ctx.skip(why);
      const bytes = writeObject(sampleSpec(), { order });
      const path = save(`sample.${order}.o`, bytes);
      const all = run('llvm-readelf', ['-a', '-W', path]);
      expect(all.status).toBe(0);
      expect(all.stderr).toBe('');
      expect(all.stdout).toContain(order === 'le' ? 'little endian' : 'big endian');
      const obj = readObject(bytes);
      expect(readelfSections(path)).toEqual(
        obj.sections.map((s) => ({
          index: s.index,
          name: s.name,
          type: sectionTypeName(s.type),
          offset: s.offset,
          size: s.size,
        })),
      );
      const syms = readelfSymbols(path);
      expect(syms.find((s) => s.name === 'xdp_count')).toMatchObject({
        type: 'FUNC',
        bind: 'GLOBAL',
        size: 23 * 8,
        value: 0,
      });
      expect(syms.find((s) => s.name === 'answer')).toMatchObject({ type: 'FUNC', bind: 'LOCAL', size: 4 * 8 });
      expect(syms.find((s) => s.name === 'counts')).toMatchObject({ type: 'OBJECT', bind: 'GLOBAL', size: 32 });
      // Locals precede globals (sh_info of .symtab).
      const firstGlobal = syms.findIndex((s) => s.bind !== 'LOCAL');
      expect(syms.slice(firstGlobal).every((s) => s.bind !== 'LOCAL')).toBe(true);
      expect(readelfRelocs(path)).toEqual(
        new Map([
          [
            '.relxdp',
            [
              { offset: 0x18, type: 'R_BPF_64_64', symbol: 'counts' },
              { offset: 0x48, type: 'R_BPF_64_64', symbol: 'events' },
              { offset: 0x80, type: 'R_BPF_64_32', symbol: 'answer' },
            ],
          ],
          ['.rel.text', [{ offset: 0, type: 'R_BPF_64_64', symbol: 'limit' }]],
        ]),
      );
      const dis = objdump(path);
      expect(dis.status).toBe(0);
      expect(dis.stderr).toBe('');
      expect(dis.stdout).toContain('<xdp_count>:');
      expect(dis.stdout).toContain('<answer>:');
      expect(dis.stdout).toMatch(/call 131\n/);
      expect(dis.stdout).toMatch(/R_BPF_64_32\s+answer/);
      // 23 slots in xdp + 4 in .text, each printed on its own numbered line (lddw on one line).
      const insnLines = dis.stdout.split('\n').filter((l) => /^\s+\d+:\t/.test(l));
      expect(insnLines.length).toBe(obj.programs[0]!.insns.length + obj.subprograms[0]!.insns.length);
    },
  );

  it('bpftool reads its BTF as readObject does', (ctx) => {
    const why = missingTool('bpftool');
    if (why) ctx.skip(why);
    const bytes = writeObject(sampleSpec());
    expect(bpftoolBtf(save('sample.btf.o', bytes))).toBe(formatBtf(readObject(bytes).btf!));
  });

  it('loads into the kernel with bpftool prog load (array map, ringbuf, GPL)', (ctx) => {
    const why = missingBpf();
    if (why) ctx.skip(why);
    if (!run('mount', []).stdout.includes(' /sys/fs/bpf type bpf')) {
      const m = run('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
      if (m.status !== 0) ctx.skip(`cannot mount bpffs: ${m.stderr.trim()}`);
    }
    const path = save('load.o', writeObject(sampleSpec()));
    const pin = `/sys/fs/bpf/ukibpf_elf_${process.pid}_${randomBytes(4).toString('hex')}`;
    try {
      const load = run('bpftool', ['prog', 'load', path, pin]);
      expect(load.stderr).toBe('');
      expect(load.status).toBe(0);
      const show = run('bpftool', ['-j', 'prog', 'show', 'pinned', pin]);
      expect(show.status).toBe(0);
      const info = JSON.parse(show.stdout) as {
        type: string;
        name: string;
        gpl_compatible: boolean;
        map_ids: number[];
      };
      expect(info).toMatchObject({ type: 'xdp', name: 'xdp_count', gpl_compatible: true });
      expect(info.map_ids.length).toBe(3); // counts, events, .rodata
    } finally {
      rmSync(pin, { force: true });
    }
  });
});

describe('writeObject rejects specs it cannot write', () => {
  const base = sampleSpec();
  const prog = base.programs[0]!;
  it.each([
    ['a program without a section', { ...base, programs: [{ ...prog, section: undefined }] }, 'needs a section'],
    ['a program in .text', { ...base, programs: [{ ...prog, section: '.text' }] }, '.text'],
    [
      'a relocation past the function',
      { ...base, programs: [{ ...prog, relocations: [{ insn: 99, symbol: 'counts' }] }] },
      'outside',
    ],
    [
      'a relocation on an alu insn',
      { ...base, programs: [{ ...prog, relocations: [{ insn: 1, symbol: 'counts' }] }] },
      'explicit',
    ],
    [
      'two symbols with one name',
      { ...base, maps: [...base.maps!, { name: 'answer', type: 2, maxEntries: 1, keySize: 4, valueSize: 4 }] },
      'already used',
    ],
    [
      'duplicate line records',
      {
        ...base,
        programs: [
          {
            ...prog,
            lines: [
              { insn: 1, line: 1 },
              { insn: 1, line: 2 },
            ],
          },
        ],
      },
      'two line records',
    ],
    ['.bss with contents', { ...base, data: [{ name: '.bss', bytes: new Uint8Array(4) }] }, 'no contents'],
    [
      'a variable past its section',
      { ...base, data: [{ name: '.data', bytes: new Uint8Array(4), vars: [{ name: 'x', offset: 2, size: 4 }] }] },
      'outside',
    ],
    ['key types without BTF', { ...base, maps: [{ name: 'm', type: 1, maxEntries: 1, keyType: 3 }] }, 'verbatim'],
  ])('%s', (_what, spec, message) => {
    expect(() => writeObject(spec)).toThrow(ElfWriteError);
    expect(() => writeObject(spec)).toThrow(message);
  });

  it('verbatim BTF must agree with the map specs', (ctx) => {
    const why = missingTool('clang');
    if (why) ctx.skip(why);
    const spec = specOf(readObject(readFileSync(compileFixture(join(CLANG_FIXTURES, 'elf_maps.c'), 'v3'))));
    const maps = spec.maps!.map((m, i) => (i === 0 ? { ...m, maxEntries: m.maxEntries + 1 } : m));
    expect(() => writeObject({ ...spec, maps })).toThrow("spec field 'maxEntries' disagrees");
  });

  it('a kfunc-style call to an undefined name becomes an extern symbol', () => {
    const spec = {
      license: 'GPL',
      programs: [
        {
          name: 'p',
          section: 'tc',
          insns: [insnNamed('call_kfunc', { imm: -1 }), insnNamed('mov', { dst: 0, imm: 0 }, 'K'), insnNamed('exit')],
          relocations: [{ insn: 0, symbol: 'bpf_kfunc_x' }],
        },
      ],
    };
    const obj = readObject(writeObject(spec));
    const sym = obj.programs[0]!.relocations[0]!.symbol;
    expect([sym.name, sym.shndx, sym.section]).toEqual(['bpf_kfunc_x', 0, undefined]);
  });
});

describe('clang objects read and written back read identically', () => {
  const FIXTURES = ['elf_maps', 'elf_globals', 'elf_subprog', 'elf_multi', 'elf_btfkinds'];
  it.for(FIXTURES.flatMap((f) => [[f, 'le'] as const, [f, 'be'] as const]))('%s (%s)', ([name, order], ctx) => {
    const why = missingTool('clang');
    if (why) ctx.skip(why);
    const flags = order === 'be' ? ['-target', 'bpfeb'] : [];
    const original = readObject(readFileSync(compileFixture(join(CLANG_FIXTURES, `${name}.c`), 'v3', flags)));
    const again = readObject(writeObject(specOf(original), { order }));
    expect(objView(again)).toEqual(objView(original));
  });

  it.for(['elf_maps', 'elf_globals', 'elf_subprog', 'elf_multi'])(
    '%s loads with bpftool prog loadall, as clang wrote it and written back',
    (name, ctx) => {
      const why = missingBpf() ?? missingTool('clang');
      if (why) ctx.skip(why);
      const clangPath = compileFixture(join(CLANG_FIXTURES, `${name}.c`), 'v3');
      const ours = save(`${name}.rt.o`, writeObject(specOf(readObject(readFileSync(clangPath)))));
      const loaded = (path: string): string[] => {
        const pin = `/sys/fs/bpf/ukibpf_elf_${process.pid}_${randomBytes(4).toString('hex')}`;
        try {
          const load = run('bpftool', ['prog', 'loadall', path, pin]);
          expect(load.stderr).toBe('');
          expect(load.status).toBe(0);
          return run('ls', [pin]).stdout.split('\n').filter(Boolean).sort();
        } finally {
          rmSync(pin, { recursive: true, force: true });
        }
      };
      const theirs = loaded(clangPath);
      expect(theirs.length).toBeGreaterThan(0);
      expect(loaded(ours)).toEqual(theirs);
    },
  );
});
