/**
 * The reader under mutation: real clang objects with flipped bytes, truncations and overwritten
 * header / section table / symbol / relocation / BTF fields. Only ElfError may escape readObject;
 * what it accepts must also survive the rest of the pipeline (BTF dump, spec, write).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatBtf } from '../../../bpf/btf/index.ts';
import { ElfError, ElfWriteError, readObject, specOf, writeObject } from '../../../bpf/elf/index.ts';
import { CLANG_FIXTURES, compileFixture } from '../../support/clang.ts';
import { missingTool } from '../../support/env.ts';
import { sampleSpec } from './sample.ts';

/** A region of an object worth aiming at, by byte range. */
interface Target {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  /** Field stride inside the region (8 for section headers' u64 fields, 4 for BTF words...). */
  readonly stride: number;
}

interface Corpus {
  readonly bytes: Uint8Array;
  readonly targets: readonly Target[];
}

/** The regions of an object: ELF header, section table, symtab, REL sections, .BTF, .BTF.ext. */
const targetsOf = (bytes: Uint8Array): Target[] => {
  const obj = readObject(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const le = obj.order === 'le';
  const shoff = Number(view.getBigUint64(40, le));
  const out: Target[] = [
    { name: 'ehdr', start: 16, end: 64, stride: 2 },
    { name: 'shdrs', start: shoff, end: shoff + obj.sections.length * 64, stride: 4 },
  ];
  for (const s of obj.sections) {
    if (
      s.name === '.symtab' ||
      s.name === '.BTF' ||
      s.name === '.BTF.ext' ||
      s.type === 9 /* REL */ ||
      s.name === '.strtab'
    ) {
      out.push({ name: s.name, start: s.offset, end: s.offset + s.size, stride: 4 });
    }
  }
  return out.filter((t) => t.end > t.start);
};

const INTERESTING = [
  0, 1, 2, 3, 4, 7, 8, 12, 16, 24, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe,
  0xffffffff,
];

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'field'; target: number; at: number; width: 1 | 2 | 4; value: number }
  | { kind: 'splice'; from: number; to: number; len: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('field' as const),
      target: fc.nat(),
      at: fc.nat(),
      width: fc.constantFrom(1 as const, 2 as const, 4 as const),
      value: fc.oneof(fc.constantFrom(...INTERESTING), fc.nat({ max: 0xffffffff })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('splice' as const),
      from: fc.nat(),
      to: fc.nat(),
      len: fc.integer({ min: 1, max: 64 }),
    }),
  },
);

const mutate = (c: Corpus, ms: readonly Mutation[]): Uint8Array => {
  // A copy (corpus entries are plain Uint8Arrays, whose slice copies, unlike Buffer's).
  let bytes = Uint8Array.prototype.slice.call(c.bytes);
  for (const m of ms) {
    if (bytes.length === 0) break;
    switch (m.kind) {
      case 'flip':
        bytes[m.at % bytes.length]! ^= 1 << m.bit;
        break;
      case 'truncate':
        bytes = bytes.slice(0, m.at % bytes.length);
        break;
      case 'field': {
        const t = c.targets[m.target % c.targets.length]!;
        const slots = Math.max(1, Math.floor((t.end - t.start) / t.stride));
        const at = t.start + (m.at % slots) * t.stride;
        if (at + m.width > bytes.length) break;
        const v = new DataView(bytes.buffer);
        const le = bytes[5] === 1;
        if (m.width === 1) v.setUint8(at, m.value & 0xff);
        else if (m.width === 2) v.setUint16(at, m.value & 0xffff, le);
        else v.setUint32(at, m.value >>> 0, le);
        break;
      }
      case 'splice': {
        const from = m.from % bytes.length;
        const to = m.to % bytes.length;
        bytes.copyWithin(to, from, Math.min(bytes.length, from + m.len));
        break;
      }
    }
  }
  return bytes;
};

/**
 * Runs the reader and, when `downstream`, what follows it (BTF dump, spec, write, read back);
 * only typed errors may come out.
 */
const exercise = (bytes: Uint8Array, downstream = true): 'accepted' | 'rejected' => {
  let obj: ReturnType<typeof readObject>;
  try {
    obj = readObject(bytes);
  } catch (e) {
    if (e instanceof ElfError) {
      expect(e.offset).toBeGreaterThanOrEqual(0);
      expect(e.offset).toBeLessThanOrEqual(bytes.length);
      return 'rejected';
    }
    throw e;
  }
  if (!downstream) return 'accepted';
  if (obj.btf) formatBtf(obj.btf);
  try {
    readObject(writeObject(specOf(obj), { order: obj.order }));
  } catch (e) {
    if (!(e instanceof ElfWriteError)) throw e;
  }
  return 'accepted';
};

describe('readObject under mutation', () => {
  const corpus: Corpus[] = [];
  beforeAll(() => {
    const objects: Uint8Array[] = [writeObject(sampleSpec()), writeObject(sampleSpec(), { order: 'be' })];
    if (missingTool('clang') === undefined) {
      for (const name of ['elf_maps', 'elf_globals', 'elf_subprog', 'elf_btfkinds']) {
        objects.push(new Uint8Array(readFileSync(compileFixture(join(CLANG_FIXTURES, `${name}.c`), 'v3'))));
      }
      objects.push(
        new Uint8Array(readFileSync(compileFixture(join(CLANG_FIXTURES, 'elf_multi.c'), 'v3', ['-target', 'bpfeb']))),
      );
    }
    for (const bytes of objects) corpus.push({ bytes, targets: targetsOf(bytes) });
  });

  it('the unmutated corpus is accepted', () => {
    for (const c of corpus) expect(exercise(c.bytes)).toBe('accepted');
  });

  it('3000 mutated objects: only ElfError escapes, and offsets stay inside the file', () => {
    const seen = { accepted: 0, rejected: 0 };
    fc.assert(
      fc.property(fc.nat(), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (pick, ms) => {
        const c = corpus[pick % corpus.length]!;
        // The write-back costs as much as the read: run it on a quarter of the cases.
        seen[exercise(mutate(c, ms), pick % 4 === 0)]++;
      }),
      { numRuns: 3000, seed: 0x5eed },
    );
    // Both outcomes must occur, or the mutations are not reaching the parser.
    expect(seen.rejected).toBeGreaterThan(300);
    expect(seen.accepted).toBeGreaterThan(100);
  });
});
