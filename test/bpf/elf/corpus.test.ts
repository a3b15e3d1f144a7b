/**
 * Every C fixture of the project (test/fixtures/clang, written for many tests) through the reader:
 * BTF as bpftool dumps it, symbols as llvm-readelf lists them, and a write-back that reads identically.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatBtf } from '../../../bpf/btf/index.ts';
import { type BpfFunction, readObject, relocTypeName, specOf, writeObject } from '../../../bpf/elf/index.ts';
import { encode } from '../../../bpf/isa/index.ts';
import { clangFixtures, compileFixture } from '../../support/clang.ts';
import { missingTool } from '../../support/env.ts';
import { bpftoolBtf, readelfSymbols } from './tools.ts';

const fnView = (f: BpfFunction) => [
  f.name,
  f.section,
  f.offset,
  Buffer.from(encode(f.insns)).toString('hex'),
  f.relocations.map((r) => [r.insn, relocTypeName(r.type), r.symbol.name]),
  f.lines,
  f.coreRelos,
  f.btfFunc,
];

describe('the project C fixtures', () => {
  it.for(clangFixtures().map((f) => basename(f)))('%s', (name, ctx) => {
    const why = missingTool('clang', 'bpftool', 'llvm-readelf');
    if (why) ctx.skip(why);
    const file = clangFixtures().find((f) => basename(f) === name)!;
    const path = compileFixture(file, 'v3');
    const obj = readObject(readFileSync(path));
    expect(obj.btf === undefined ? '' : formatBtf(obj.btf)).toBe(obj.btf === undefined ? '' : bpftoolBtf(path));
    const funcs = readelfSymbols(path).filter((s) => s.type === 'FUNC');
    expect([...obj.programs, ...obj.subprograms].map((f) => f.name).sort()).toEqual(funcs.map((s) => s.name).sort());
    const again = readObject(writeObject(specOf(obj)));
    expect([...again.programs, ...again.subprograms].map(fnView)).toEqual(
      [...obj.programs, ...obj.subprograms].map(fnView),
    );
    expect(again.maps).toEqual(obj.maps);
  });
});
