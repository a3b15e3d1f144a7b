/**
 * Automatic outlining: a function of the file called from two places or more, of OUTLINE_NODES syntax
 * nodes or more, with a signature BPF passes in registers, is compiled once as a subprogram (as
 * `noinline` does); smaller ones, ones called once, ones taking views and `inline(...)` ones stay
 * inlined. The outlined program passes our verifier and agrees natively and compiled, a fault inside
 * the outlined function included.
 */
import { describe, expect, it } from 'vitest';
import { Bytes, type Program } from '../../compiler/dsl/index.ts';
import type { ArrayMap } from '../../compiler/dsl/maps.ts';
import { compileSource, formatDiagnostic, linkedFuncLinkage, linkedInsns, linkedMaps } from '../../compiler/index.ts';
import { OUTLINE_NODES } from '../../compiler/frontend/module.ts';
import { syscall, verify } from '../../runtime/verifier/index.ts';
import { loadCompiled } from './support/harness.ts';
import { evalDslModule } from './support/native.ts';

const FILE = new URL('./programs/outline.ts', import.meta.url).pathname;

/** A function of well over OUTLINE_NODES nodes: a mix of 16 bytes from `off`, which faults past the input. */
const big = (name: string, wrap = (f: string) => f): string => {
  const steps = Array.from(
    { length: 16 },
    (_, i) =>
      `  h = u32(((h ^ d.u8(off + ${i})) & 0xffffff) * 403) & 0x7fffffff; h = u32(h + (h >>> ${(i % 7) + 1})) & 0x7fffffff;`,
  ).join('\n');
  return `const ${name} = ${wrap(`(off: u32): u32 => {
  const d = input.lookup(0);
  if (d === null) return 0;
  let h: u32 = 2166136261 & 0x7fffffff;
${steps}
  return h;
}`)};`;
};

const source = (
  decls: string,
  body: string,
): string => `import { arrayMap, inline, program, u32 } from '../../../compiler/dsl/index.ts';
export const input = arrayMap({ valueSize: 64, maxEntries: 1 });
${decls}
export const p = program({ section: 'syscall', license: 'GPL', fault: -9 }, () => {
  const d = input.lookup(0);
  if (d === null) return -1;
  ${body}
});
`;

const compile = (text: string) => {
  const out = compileSource(FILE, text);
  expect(out.diagnostics.map((d) => formatDiagnostic(d))).toEqual([]);
  return out;
};

describe('automatic outlining', () => {
  it('makes a large function called twice a subprogram; native = compiled, faults included', () => {
    const text = source(big('mix'), 'return u32(mix(d.u8(0) & 63) + mix(d.u8(1))) & 0x7fffffff;');
    const out = compile(text);
    expect(out.subprograms.map((s) => s.name)).toEqual(['mix']);
    const prog = out.programs[0];
    if (prog === undefined) throw new Error('no program');
    expect(prog.relocs.filter((r) => r.call).map((r) => r.symbol)).toEqual(['mix', 'mix']);
    const v = verify(linkedInsns(out, prog), {
      policy: syscall,
      maps: linkedMaps(out),
      funcLinkage: linkedFuncLinkage(out, prog),
    });
    expect(v.accepted, v.summary).toBe(true);
    const mod = evalDslModule(text);
    const compiled = loadCompiled(out, 'p');
    let faults = 0;
    for (let x = 0; x < 256; x++) {
      const bytes = Uint8Array.from({ length: 64 }, (_, i) => (i === 1 ? x : (i * 41 + x) & 0xff));
      (mod.input as ArrayMap).update(0, new Bytes(bytes.slice()));
      const want = BigInt((mod.p as Program).run());
      if (want === -9n) faults++;
      expect(compiled.run(bytes).r0, `input byte ${x}`).toBe(want);
    }
    expect(faults).toBeGreaterThan(0); // offsets past 48 fault inside the subprogram
  });

  it('keeps inlined: a function called once, one under the size, one marked inline(...)', () => {
    const once = compile(source(big('mix'), 'return mix(d.u8(0) & 31) & 0x7fffffff;'));
    expect(once.subprograms).toEqual([]);
    const small = compile(
      source(
        'const twice = (x: u32): u32 => u32(x * 2) & 0xffff;',
        'return u32(twice(d.u8(0)) + twice(d.u8(1))) & 0xffff;',
      ),
    );
    expect(small.subprograms).toEqual([]);
    const kept = compile(
      source(
        big('mix', (f) => `inline(${f})`),
        'return u32(mix(d.u8(0) & 31) + mix(d.u8(1) & 31)) & 0x7fffffff;',
      ),
    );
    expect(kept.subprograms).toEqual([]);
    // a view parameter does not fit the call ABI: the function stays inlined
    const viewSteps = Array.from({ length: 40 }, (_, i) => `  h = u32((h ^ v.u8(${i % 16})) * 403) & 0xffffff;`).join(
      '\n',
    );
    const withView = compile(
      source(
        `const scan = (v: Bytes): u32 => {\n  let h: u32 = 7;\n${viewSteps}\n  return h;\n};`,
        'return u32(scan(d.sub(0, 16)) + scan(d.sub(16, 16))) & 0x7fffffff;',
      ).replace('import { arrayMap,', 'import { arrayMap, type Bytes,'),
    );
    expect(withView.subprograms).toEqual([]);
    expect(OUTLINE_NODES).toBeGreaterThan(100);
  });
});
