/**
 * BTF encode/decode: random type graphs and .BTF.ext records round-trip exactly; kinds clang 14
 * does not emit (ENUM64, signed ENUM, BOOL/CHAR ints) dump as bpftool dumps them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Btf,
  BtfError,
  type BtfExt,
  type BtfType,
  decodeBtf,
  decodeBtfExt,
  encodeBtf,
  encodeBtfExt,
  formatBtf,
  sizeOf,
  StringTableBuilder,
  skipModifiers,
} from '../../../bpf/btf/index.ts';
import { writeObject } from '../../../bpf/elf/index.ts';
import { missingTool } from '../../support/env.ts';
import { sampleSpec } from './sample.ts';
import { bpftoolBtf } from './tools.ts';

const name = fc.oneof(fc.constant(''), fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/), fc.constant('ünïcode'));
const u32 = fc.nat({ max: 0xffffffff });

/** A type whose references point only at earlier ids (so there are no loops). */
const typeArb = (id: number): fc.Arbitrary<BtfType> => {
  const ref = fc.nat({ max: id - 1 });
  return fc.oneof(
    fc.record({
      kind: fc.constant('INT' as const),
      name,
      size: fc.constantFrom(1, 2, 4, 8, 16),
      encoding: fc.constantFrom(0, 1, 2, 4),
      bitsOffset: fc.nat({ max: 255 }),
      bits: fc.nat({ max: 128 }),
    }),
    fc.record({
      kind: fc.constantFrom('PTR', 'TYPEDEF', 'VOLATILE', 'CONST', 'RESTRICT', 'TYPE_TAG'),
      name,
      type: ref,
    }),
    fc.record({ kind: fc.constant('ARRAY' as const), name, type: ref, indexType: ref, nelems: u32 }),
    fc
      .record({
        kind: fc.constantFrom('STRUCT' as const, 'UNION' as const),
        name,
        size: u32,
        kflag: fc.boolean(),
        members: fc.array(
          fc.record({ name, type: ref, bitOffset: fc.nat({ max: 0xffffff }), bitfieldSize: fc.nat({ max: 255 }) }),
          { maxLength: 5 },
        ),
      })
      .map((t) => ({ ...t, members: t.members.map((m) => ({ ...m, bitfieldSize: t.kflag ? m.bitfieldSize : 0 })) })),
    fc.record({
      kind: fc.constant('ENUM' as const),
      name,
      size: fc.constantFrom(1, 2, 4),
      signed: fc.boolean(),
      values: fc.array(fc.record({ name, value: fc.nat({ max: 0x7fffffff }) }), { maxLength: 4 }),
    }),
    fc.record({
      kind: fc.constant('ENUM64' as const),
      name,
      size: fc.constant(8),
      signed: fc.boolean(),
      values: fc.array(fc.record({ name, value: fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }) }), { maxLength: 4 }),
    }),
    fc.record({ kind: fc.constant('FWD' as const), name, union: fc.boolean() }),
    fc.record({ kind: fc.constant('FUNC' as const), name, type: ref, linkage: fc.nat({ max: 2 }) }),
    fc.record({
      kind: fc.constant('FUNC_PROTO' as const),
      name,
      returnType: ref,
      params: fc.array(fc.record({ name, type: ref }), { maxLength: 4 }),
    }),
    fc.record({ kind: fc.constant('VAR' as const), name, type: ref, linkage: fc.nat({ max: 2 }) }),
    fc.record({
      kind: fc.constant('DATASEC' as const),
      name,
      size: u32,
      vars: fc.array(fc.record({ type: ref, offset: u32, size: u32 }), { maxLength: 4 }),
    }),
    fc.record({ kind: fc.constant('FLOAT' as const), name, size: fc.constantFrom(4, 8, 16) }),
    fc.record({
      kind: fc.constant('DECL_TAG' as const),
      name,
      type: ref,
      componentIdx: fc.integer({ min: -1, max: 5 }),
    }),
  ) as fc.Arbitrary<BtfType>;
};

const btfArb: fc.Arbitrary<Btf> = fc
  .integer({ min: 0, max: 12 })
  .chain((n) =>
    fc
      .tuple(...Array.from({ length: n }, (_, i) => typeArb(i + 1)))
      .map((types) => ({ types: [{ kind: 'UNKN' as const, name: '' as const }, ...types] })),
  );

const extArb: fc.Arbitrary<BtfExt> = fc.record({
  funcInfo: fc.array(
    fc.record({
      section: name.filter((s) => s !== ''),
      records: fc.array(fc.record({ insnOff: u32, typeId: u32 }), { minLength: 1, maxLength: 3 }),
    }),
    { maxLength: 2 },
  ),
  lineInfo: fc.array(
    fc.record({
      section: name.filter((s) => s !== ''),
      records: fc.array(
        fc.record({
          insnOff: u32,
          file: name,
          text: fc.string({ maxLength: 20 }).filter((s) => !s.includes('\0')),
          line: fc.nat({ max: 0x3fffff }),
          col: fc.nat({ max: 1023 }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    }),
    { maxLength: 2 },
  ),
  coreRelos: fc.array(
    fc.record({
      section: name.filter((s) => s !== ''),
      records: fc.array(
        fc.record({
          insnOff: u32,
          typeId: u32,
          access: fc.constantFrom('0', '0:1', '0:2:3'),
          kind: fc.nat({ max: 12 }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    }),
    { maxLength: 2 },
  ),
});

describe('BTF encode/decode', () => {
  it.each(['le', 'be'] as const)('random type graphs and .BTF.ext round-trip exactly (%s)', (order) => {
    fc.assert(
      fc.property(btfArb, extArb, (btf, ext) => {
        const strings = new StringTableBuilder();
        const extBytes = encodeBtfExt(ext, order, strings);
        const bytes = encodeBtf(btf, order, strings);
        const back = decodeBtf(bytes);
        expect(back.order).toBe(order);
        expect(back.types).toEqual(btf.types);
        expect(decodeBtfExt(extBytes, back.stringAt)).toEqual(ext);
      }),
      { numRuns: 300, seed: 42 },
    );
  });

  it('sizes and modifiers resolve; unsized types have no size', () => {
    const btf: Btf = {
      types: [
        { kind: 'UNKN', name: '' },
        { kind: 'INT', name: 'int', size: 4, encoding: 1, bitsOffset: 0, bits: 32 },
        { kind: 'CONST', name: '', type: 1 },
        { kind: 'TYPEDEF', name: 'cint', type: 2 },
        { kind: 'ARRAY', name: '', type: 3, indexType: 1, nelems: 5 },
        { kind: 'ARRAY', name: '', type: 4, indexType: 1, nelems: 3 },
        { kind: 'FWD', name: 'x', union: false },
        { kind: 'PTR', name: '', type: 6 },
      ],
    };
    expect(skipModifiers(btf, 3)).toBe(1);
    expect(sizeOf(btf, 5)).toBe(60);
    expect(sizeOf(btf, 7)).toBe(8);
    expect(sizeOf(btf, 6)).toBeUndefined();
    expect(() => sizeOf(btf, 99)).toThrow(BtfError);
  });

  it('the encoder refuses what BTF cannot hold', () => {
    const bad = (t: BtfType) => () => encodeBtf({ types: [{ kind: 'UNKN', name: '' }, t] });
    expect(bad({ kind: 'PTR', name: '', type: 7 })).toThrow('past the last type');
    expect(
      bad({
        kind: 'STRUCT',
        name: 's',
        size: 4,
        kflag: false,
        members: [{ name: 'a', type: 0, bitOffset: 0, bitfieldSize: 3 }],
      }),
    ).toThrow('kind_flag');
    expect(bad({ kind: 'INT', name: 'i', size: 4, encoding: 16, bitsOffset: 0, bits: 32 })).toThrow(BtfError);
    expect(bad({ kind: 'FLOAT', name: 'a\0b', size: 4 })).toThrow('NUL');
  });
});

describe('formatBtf agrees with bpftool on kinds clang 14 does not emit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ukibpf-btf-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('ENUM64, signed ENUM, BOOL and CHAR ints, FWD union, extern linkage', (ctx) => {
    const why = missingTool('bpftool');
    if (why) ctx.skip(why);
    const btf: Btf = {
      types: [
        { kind: 'UNKN', name: '' },
        {
          kind: 'ENUM64',
          name: 'big',
          size: 8,
          signed: false,
          values: [
            { name: 'A', value: 0xffffffffffffffffn },
            { name: 'B', value: 1n << 40n },
          ],
        },
        { kind: 'ENUM64', name: 'sbig', size: 8, signed: true, values: [{ name: 'C', value: -5n }] },
        {
          kind: 'ENUM',
          name: 'small',
          size: 4,
          signed: true,
          values: [
            { name: 'D', value: -7 },
            { name: 'E', value: 3 },
          ],
        },
        { kind: 'INT', name: '_Bool', size: 1, encoding: 4, bitsOffset: 0, bits: 1 },
        { kind: 'INT', name: 'char', size: 1, encoding: 2, bitsOffset: 0, bits: 8 },
        { kind: 'FWD', name: 'u', union: true },
        { kind: 'FUNC_PROTO', name: '', returnType: 0, params: [{ name: '', type: 0 }] },
        { kind: 'FUNC', name: 'ext_fn', type: 7, linkage: 2 },
        { kind: 'VAR', name: 'ext_var', type: 4, linkage: 2 },
      ],
    };
    const spec = sampleSpec();
    const bytes = writeObject({
      ...spec,
      maps: [],
      btf,
      programs: spec.programs.map((p) => ({ ...p, relocations: [] })),
    });
    const path = join(dir, 'kinds.o');
    writeFileSync(path, bytes);
    expect(formatBtf(btf)).toBe(bpftoolBtf(path));
  });
});
