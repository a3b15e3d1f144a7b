/**
 * The hand-written programs run natively (the DSL library in Node) and compiled (runtime/vm) on the
 * same random inputs: same return value and same memory afterwards.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bytes, type Program } from '../../compiler/dsl/index.ts';
import type { ArrayMap } from '../../compiler/dsl/maps.ts';
import { compileFile, loadCompiled } from './support/harness.ts';

const dir = new URL('./programs/', import.meta.url).pathname;

const le32 = (b: Uint8Array, off: number, v: number) => new DataView(b.buffer).setUint32(off, v, true);
const le16 = (b: Uint8Array, off: number, v: number) => new DataView(b.buffer).setUint16(off, v, true);

/** Inputs that reach deep paths: a valid header with random bytes and random corruption. */
const shaped: Record<string, (b: Uint8Array, pick: number) => void> = {
  'pe-scan': (b, pick) => {
    le16(b, 0, 0x5a4d);
    const pe = 0x40 + (pick % 64);
    le32(b, 0x3c, pick % 17 === 0 ? 0xfffffff0 : pe);
    le32(b, pe, 0x4550);
    le16(b, pe + 6, pick % 9);
    le16(b, pe + 20, (pick >> 4) % 64);
    const first = pe + 24 + ((pick >> 4) % 64);
    const k = pick % 5;
    if (first + k * 40 + 8 <= b.length) b.set([0x2e, 0x6c, 0x69, 0x6e, 0x75, 0x78, 0, 0], first + k * 40);
  },
  'cpio-header': (b, pick) => {
    const text = `070701${[...Array(13)].map((_, i) => ((pick * (i + 7)) >>> 0).toString(16).padStart(8, '0').slice(-8)).join('')}`;
    b.set(new TextEncoder().encode(text));
    if (pick % 4 === 0) b[54 + (pick % 8)] = 0x47;
  },
  'zboot-header': (b, pick) => {
    le16(b, 0, 0x5a4d);
    b.set([0x7a, 0x69, 0x6d, 0x67], 4);
    le32(b, 8, pick % 3 === 0 ? 0xffffff00 : 0x1000);
    le32(b, 12, pick % 5 === 0 ? 0 : 0x2000);
    const names = ['gzip', 'zstd', 'lz4\0', 'xz\0\0', 'bz2\0'];
    b.set(new TextEncoder().encode(names[pick % names.length]), 24);
  },
};

const PROGRAMS: [file: string, name: string][] = [
  ['checksum', 'checksum'],
  ['fnv1a', 'fnv1a'],
  ['memcmp', 'memcmp'],
  ['pe-scan', 'peScan'],
  ['cpio-header', 'cpioHeader'],
  ['zboot-header', 'zbootHeader'],
];

describe('native vs compiled', () => {
  for (const [file, name] of PROGRAMS) {
    it(`${file}: same result and memory on 200 random inputs`, async () => {
      const path = `${dir}${file}.ts`;
      const out = compileFile(path);
      expect(out.diagnostics).toEqual([]);
      const compiled = loadCompiled(out, name);
      const mod = (await import(path)) as Record<string, unknown>;
      const native = mod[name] as Program;
      const input = mod.input as ArrayMap;
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 512, maxLength: 512 }), fc.nat(), fc.boolean(), (bytes, pick, shape) => {
          const b = bytes.slice(0, input.valueSize);
          const shaper = shaped[file];
          if (shape && shaper) shaper(b, pick);
          // memcmp: make the halves often equal
          if (file === 'memcmp' && shape) b.copyWithin(32, 0, 32 - (pick % 33));
          input.update(0, new Bytes(b));
          const want = native.run();
          const wantMem = (input.lookup(0) as Bytes).raw().slice();
          const got = compiled.run(b);
          expect(got.r0).toBe(BigInt(want));
          expect(got.memory).toEqual(wantMem);
        }),
        { numRuns: 200 },
      );
    });
  }
});
