/**
 * Range narrowing by a comparison of two locals (`if (m < n)`: m ≤ n.hi − 1, n ≥ m.lo + 1), as the
 * verifier narrows two scalar registers on a conditional jump: the bounds check an access at the
 * narrowed value needs is folded away, the program passes our verifier, and it agrees natively and
 * compiled on every input pair.
 */
import { describe, expect, it } from 'vitest';
import { Bytes, type Program } from '../../compiler/dsl/index.ts';
import type { ArrayMap } from '../../compiler/dsl/maps.ts';
import { compileSource, formatDiagnostic, linkedInsns, linkedMaps } from '../../compiler/index.ts';
import { syscall, verify } from '../../runtime/verifier/index.ts';
import { loadCompiled } from './support/harness.ts';
import { evalDslModule } from './support/native.ts';

const FILE = new URL('./programs/narrow-locals.ts', import.meta.url).pathname;
const source = (body: string): string => `import { arrayMap, program, u32 } from '../../../compiler/dsl/index.ts';
export const input = arrayMap({ valueSize: 64, maxEntries: 1 });
export const p = program({ section: 'syscall', license: 'GPL', fault: -7 }, () => {
  const d = input.lookup(0);
  if (d === null) return -1;
  const n = d.u8(0) & 63;
  const m = d.u8(1);
${body}
});
`;

const compile = (text: string) => {
  const out = compileSource(FILE, text);
  expect(out.diagnostics.map((x) => formatDiagnostic(x))).toEqual([]);
  const prog = out.programs[0];
  if (prog === undefined) throw new Error('no program');
  return { out, insns: linkedInsns(out, prog) };
};

describe('narrowing against another local', () => {
  const cases: Record<string, string> = {
    'm < n': '  if (m < n) return d.u8(m);\n  return 0;',
    'n > m, else edge': '  if (n <= m) return 0;\n  return d.u8(m);',
    'm === n': '  if (m === n) return d.u8(m);\n  return 0;',
    'a loop bound by another local':
      '  let s: u32 = 0;\n  for (let i: u32 = 0; i < 64 && i < n; i++) if (m < i) s = u32(s + d.u8(m));\n  return s & 0xffff;',
  };
  for (const [name, body] of Object.entries(cases)) {
    it(`${name}: verified, native = compiled`, () => {
      const text = source(body);
      const { out, insns } = compile(text);
      const v = verify(insns, { policy: syscall, maps: linkedMaps(out) });
      expect(v.accepted, v.summary).toBe(true);
      const mod = evalDslModule(text);
      const compiled = loadCompiled(out, 'p');
      for (let a = 0; a < 256; a += 5)
        for (let b = 0; b < 256; b += 7) {
          const bytes = Uint8Array.from({ length: 64 }, (_, i) => (i === 0 ? a : i === 1 ? b : (i * 29) & 0xff));
          (mod.input as ArrayMap).update(0, new Bytes(bytes.slice()));
          expect(compiled.run(bytes).r0, `bytes ${a}, ${b}`).toBe(BigInt((mod.p as Program).run()));
        }
    });
  }
  it('folds the bounds check the comparison proves', () => {
    // m < n ≤ 63: m indexes the 64-byte view with no check; m < 200 needs one
    const proved = compile(source('  if (m < n) return d.u8(m);\n  return 0;')).insns.length;
    const unproved = compile(source('  if (m < 200) return d.u8(m);\n  return 0;')).insns.length;
    expect(proved).toBeLessThan(unproved);
  });
});
