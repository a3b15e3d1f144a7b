/**
 * The DSL's newer control flow and memory forms: range narrowing by conditions, sub-views of a
 * run-time length, `while`/`do`/`switch`, module-level arrow functions and imported constants. Each
 * with its codegen (what the narrowing folds away), its diagnostics, and native = compiled.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bytes, type Program } from '../../compiler/dsl/index.ts';
import type { ArrayMap } from '../../compiler/dsl/maps.ts';
import { compileSource, linkedInsns, linkedMaps, listing } from '../../compiler/index.ts';
import { syscall, verify } from '../../runtime/verifier/index.ts';
import { compileFile, loadCompiled } from './support/harness.ts';
import { compiledAndNative } from './support/byte-sweep.ts';

const FILE = new URL('./programs/control-flow.ts', import.meta.url).pathname;
const HEAD = `import { arrayMap, program, u8, u16, u32, i32, type Bytes } from '../../../compiler/dsl/index.ts';
export const input = arrayMap({ valueSize: 64, maxEntries: 1 });
`;
const wrap = (body: string, extra = ''): string =>
  `${HEAD}${extra}\nexport const p = program({ section: 'syscall', license: 'GPL', fault: -7 }, () => {\n  const d = input.lookup(0);\n  if (d === null) return -1;\n${body}\n});\n`;
/** Line of the first body statement (HEAD 2 lines, `extra` 1, program, lookup, null check). */
const L = 7;

const compile = (text: string) => {
  const out = compileSource(FILE, text);
  return { out, diags: out.diagnostics.map((d) => `${d.code}@${d.line}:${d.col}`) };
};

/** Compiles, verifies with our verifier, and compares with native mode on `inputs` random inputs. */
const agree = (text: string, inputs = 300, shape?: (b: Uint8Array, pick: number) => void): Set<bigint> => {
  const { compiled, mod } = compiledAndNative(FILE, text);
  const seen = new Set<bigint>();
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.nat(), (bytes, pick) => {
      shape?.(bytes, pick);
      (mod.input as ArrayMap).update(0, new Bytes(bytes.slice()));
      const want = BigInt((mod.p as Program).run());
      const wantMem = ((mod.input as ArrayMap).lookup(0) as Bytes).raw().slice();
      const got = compiled.run(bytes);
      expect(got.r0).toBe(want);
      expect(got.memory).toEqual(wantMem);
      seen.add(want);
    }),
    { numRuns: inputs },
  );
  return seen;
};

/** The conditional jumps of a program's listing. */
const branches = (text: string): number => {
  const { out } = compile(text);
  expect(out.diagnostics).toEqual([]);
  return (listing(out).match(/\bif r\d/g) ?? []).length;
};

describe('range narrowing by conditions', () => {
  it('an early return bounds the value: the access needs no check of its own', () => {
    const narrowed = wrap('  const x = d.u8(0);\n  if (x > 60) return -2;\n  return d.u32(x) & 0xffff;');
    const unchecked = wrap('  const x = d.u8(0);\n  return d.u32(x) & 0xffff;');
    // the early return replaces the bounds check: one branch each
    expect(branches(narrowed)).toBe(branches(unchecked));
    expect(listing(compile(narrowed).out)).not.toMatch(/r0 = -7/);
    agree(narrowed);
  });
  it('<, >=, <=, ===, ! and && chains narrow; the verifier accepts what the compiler folds', () => {
    const seen = agree(
      wrap(`  const a = d.u8(1);
  const b = d.u16(2);
  if (a >= 32 || !(b <= 40)) return -2;
  let s: u32 = d.u8(a + 31) + d.u16(b + 20);
  if (a === 5 && b < 8) s = u32(s + d.u8(b + 56));
  if (b !== 0 && a < 16) s = u32(s + d.u32(a + b));
  return i32(s);`),
      400,
      (b, pick) => {
        b[1] = pick % 40;
        b[2] = (pick >> 6) % 48;
        b[3] = 0;
      },
    );
    expect(seen.size).toBeGreaterThan(10);
  });
  it('narrowing survives a spilled value (each edge stores the compared register back)', () => {
    // eight values live across the test force spills; the checked one is reused after the branch
    const body = `  const o = d.u8(20);
  const v1 = d.u8(1); const v2 = d.u8(2); const v3 = d.u8(3); const v4 = d.u8(4);
  const v5 = d.u8(5); const v6 = d.u8(6); const v7 = d.u8(7); const v8 = d.u8(8);
  if (o > 47) return -2;
  const k = d.u8(9) & 7;
  return i32(u32(d.u8(o + k) + v1 + v2 + v3 + v4 + v5 + v6 + v7 + v8 + d.u8(o)));`;
    agree(wrap(body));
  });
  it('a branch the ranges decide is folded', () => {
    // only the lookup's null check is left
    expect(branches(wrap('  const x = d.u8(0) & 15;\n  if (x > 20) return -2;\n  return x;'))).toBe(1);
  });
});

describe('sub-views of a run-time length', () => {
  const body = `  const off = d.u8(0);
  const n = d.u8(1);
  if (off > 40 || n > 24) return -2;
  const s = d.sub(off, n);
  if (s.size < 4) return -3;
  let sum: u32 = s.u32(0);
  for (let i: u32 = 0; i < 24 && i < s.size; i++) sum = u32(sum + s.u8(i));
  if (n > 8) s.setU16(6, 0xbeef);
  return i32(sum & 0xffff) + i32(s.u8(n - 1));`;
  it('the bounds are proven from the ranges; reads past the run-time length fault as natively', () => {
    const seen = agree(wrap(body), 400, (b, pick) => {
      b[0] = pick % 48;
      b[1] = (pick >> 6) % 28;
    });
    expect(seen.has(-7n) || seen.has(-3n)).toBe(true);
    expect([...seen].some((x) => x > 0n)).toBe(true);
  });
  it('a length check is emitted only where the ranges do not prove it', () => {
    const { out } = compile(wrap(body));
    const text = listing(out);
    // s.u32(0) after `s.size < 4` returned: no check; s.u8(n - 1) inside [0, n): no check either
    expect(text).not.toMatch(/s\.u32\(0\)[^;]*\n[^;]*if r/);
  });
  it('an offset and length whose maxima overrun the view: DSL1017 with the bound to add', () => {
    const { diags, out } = compile(wrap('  const s = d.sub(d.u8(0), d.u8(1) & 31);\n  return s.u8(0);'));
    expect(diags).toEqual([`1017@${L}:13`]);
    expect(out.diagnostics[0]?.message).toMatch(/if \(d\.u8\(0\) > 33\) return/);
  });
  it('helper sizes are checked against the run-time length and the bound', () => {
    const text = `import { arrayMap, carrier, OUT, program, u32 } from '../../../compiler/dsl/index.ts';
export const input = arrayMap({ valueSize: 4096, maxEntries: 1 });
export const p = program({ section: 'fentry.s/kexec_pe_parser_hook', license: 'GPL' }, () => {
  const d = input.lookup(0);
  if (d === null) return 0;
  const off = d.u32(0);
  const len = d.u32(4);
  if (off > 2048 || len > 2048) return 0;
  const s = d.sub(off, len);
  const n = d.u32(8);
  if (n > 2048) return 0;
  carrier('kernel', s, n, OUT);
  return 0;
});
`;
    const { out, diags } = compile(text);
    expect(diags).toEqual([]);
    // n ≤ 2048 (the bound) is proven; n ≤ len is the one run-time check (a fault beyond it)
    expect(listing(out)).toMatch(/if r\d > r\d goto/);
  });
});

describe('while, do-while, switch', () => {
  it('while and do-while with a counter; do runs its body once before the test', () => {
    const seen = agree(
      wrap(`  let i: u32 = d.u8(0) & 7;
  let s: u32 = 0;
  while (i < 16 && d.u8(i + 8) !== 0) {
    s = u32(s + d.u8(i + 8));
    if (s > 1000) break;
    i++;
  }
  let k: u32 = 20;
  do {
    s = u32(s * 3 + d.u8(k));
    k += 2;
  } while (k < 10);
  return i32(s & 0xffffff);`),
    );
    expect(seen.size).toBeGreaterThan(100);
  });
  it('switch: grouped cases, break, return, default, continue to the loop', () => {
    const seen = agree(
      wrap(`  let s: u32 = 0;
  for (let i: u32 = 0; i < 8; i++) {
    switch (d.u8(i) & 7) {
      case 0:
        continue;
      case 1:
      case 2:
        s = u32(s + 10);
        break;
      case 7:
        return i32(s & 0xffff) + 1000;
      default:
        s = u32(s + d.u8(i + 8));
    }
    s = u32(s + 1);
  }
  return i32(s);`),
    );
    expect(seen.size).toBeGreaterThan(50);
  });
  it('a switch is a compare chain in case order', () => {
    const { out } = compile(
      wrap('  switch (d.u8(0)) {\n    case 3: return 1;\n    case 9: return 2;\n    default: return 3;\n  }'),
    );
    expect(listing(out)).toMatch(/if r(\d) == 3 goto[^\n]*\n[^\n]*if r\1 == 9 goto/);
  });
  it('loops that cannot be bounded, and continue that would skip the update: DSL1002', () => {
    const { diags, out } = compile(
      wrap(`  let i: u32 = 0;
  while (d.u8(i & 63) !== 0) i++;
  let j: u32 = 0;
  while (j < 10) { j++; j = u32(j + 1); }
  let k: u32 = 0;
  while (k < 10) { if (d.u8(k) === 0) continue; k++; }
  return 0;`),
    );
    expect(diags).toEqual([`1002@${L + 1}:10`, `1002@${L + 3}:25`, `1002@${L + 5}:39`]);
    expect(out.diagnostics[0]?.message).toMatch(/while \(i < N && \.\.\.\)/);
    expect(out.diagnostics[2]?.message).toMatch(/continue/);
  });
  it('a case label that is not a constant: DSL1007', () => {
    const { diags } = compile(
      wrap('  const x = d.u8(0);\n  switch (d.u8(1)) {\n    case x: return 1;\n  }\n  return 0;'),
    );
    expect(diags).toEqual([`1007@${L + 2}:10`]);
  });
});

describe('arrow functions and imports', () => {
  it('a module-level arrow function compiles like the declaration', () => {
    const arrow = wrap('  return i32(twice(d.u8(0)));', 'const twice = (x: u32): u32 => u32(x * 2);');
    const decl = wrap('  return i32(twice(d.u8(0)));', 'function twice(x: u32): u32 { return u32(x * 2); }');
    const a = compile(arrow);
    const b = compile(decl);
    expect(a.diags).toEqual([]);
    expect(a.out.programs[0]?.insns).toEqual(b.out.programs[0]?.insns);
  });
  it('sections.ts: imported constants and table, narrowing, a variable sub-view, while, do, switch', async () => {
    const path = new URL('./programs/sections.ts', import.meta.url).pathname;
    const out = compileFile(path);
    expect(out.diagnostics).toEqual([]);
    const prog = out.programs[0];
    if (prog === undefined) throw new Error('no program');
    expect(verify(linkedInsns(out, prog), { policy: syscall, maps: linkedMaps(out) }).accepted).toBe(true);
    const compiled = loadCompiled(out, 'sections');
    const mod = (await import(path)) as Record<string, unknown>;
    const input = mod.input as ArrayMap;
    const words = [0x6e696c2e, 0x696e692e, 0x646d632e, 0x72736f2e, 0x7461642e];
    const seen = new Set<bigint>();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1024, maxLength: 1024 }), fc.nat(), (b, pick) => {
        const dv = new DataView(b.buffer);
        dv.setUint16(0, 0x5a4d, true);
        const pe = pick % 7 === 0 ? 600 : 64 + (pick % 200);
        dv.setUint32(0x3c, pe, true);
        if (pe + 24 <= 1024) {
          dv.setUint32(pe, 0x4550, true);
          dv.setUint16(pe + 6, pick % 14, true);
          dv.setUint16(pe + 20, (pick >> 3) % 240, true);
          const first = pe + 24 + ((pick >> 3) % 240);
          for (let k = 0; k < 12 && first + 40 * k + 4 <= 1024; k++)
            dv.setUint32(first + 40 * k, words[(pick >> (k + 4)) % 5] as number, true);
        }
        input.update(0, new Bytes(b));
        const want = BigInt((mod.sections as Program).run());
        expect(compiled.run(b).r0).toBe(want);
        seen.add(want);
      }),
      { numRuns: 300 },
    );
    expect([...seen].filter((x) => x > 0n).length).toBeGreaterThan(20);
    expect(seen.has(-8n)).toBe(true);
  });
  it('importing anything but constants and tables: DSL1018 at the name', () => {
    const text = `import { arrayMap, program } from '../../../compiler/dsl/index.ts';
import { MZ, NAMES, helper, state } from './import-fixture.ts';
export const input = arrayMap({ valueSize: 64, maxEntries: 1 });
export const p = program({ section: 'syscall', license: 'GPL' }, () => {
  const d = input.lookup(0);
  if (d === null) return NAMES.at(0) + helper(1);
  return d.u16(0) === MZ ? 1 : 0;
});
`;
    const { diags, out } = compile(text);
    expect(diags.filter((d) => d.startsWith('1018'))).toEqual(['1018@2:21', '1018@2:29']);
    expect(out.diagnostics.find((d) => d.code === 1018)?.message).toMatch(/only integer constants/);
  });
});
