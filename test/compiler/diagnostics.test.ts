/** Each diagnostic class, with its code and line:col; all diagnostics of a file are reported. */
import { describe, expect, it } from 'vitest';
import { compileSource, formatDiagnostic } from '../../compiler/index.ts';

const file = new URL('./programs/diag-input.ts', import.meta.url).pathname;
const HEAD = `import { arrayMap, ringbuf, program, u32, u8, i32, type Bytes } from '../../../compiler/dsl/index.ts';
export const m = arrayMap({ valueSize: 64, maxEntries: 1 });
export const rb = ringbuf({ size: 4096 });
`;
/** Compiles a program body (starting on line 5) and returns `code@line:col` of each diagnostic. */
const diags = (body: string, extra = ''): string[] => {
  const text = `${HEAD}${extra}\nexport const p = program({ section: 'syscall', license: 'GPL' }, () => {\n${body}\n});\n`;
  return compileSource(file, text).diagnostics.map((d) => `${d.code}@${d.line}:${d.col}`);
};
/** The first line of the program body (HEAD is 3 lines, then one line for `extra`, then the program line). */
const line = (): number => 6;

describe('diagnostics', () => {
  it('unchecked T | null (DSL1003)', () => {
    expect(diags('  const v = m.lookup(0);\n  return v.u8(0);')).toEqual([`1003@${line() + 1}:10`]);
  });
  it('unbounded loops (DSL1002) say how to bound them', () => {
    const out = compileSource(
      file,
      `${HEAD}\nexport const p = program({ section: 'syscall', license: 'GPL' }, () => {\n  let n: u32 = 0;\n  while (n !== 10) n++;\n  const v = m.lookup(0);\n  if (v === null) return 0;\n  for (let i: u32 = 0; i < v.u32(0); i++) {}\n  return 0;\n});\n`,
    );
    expect(out.diagnostics.map((d) => `${d.code}@${d.line}:${d.col}`)).toEqual([
      `1002@${line() + 1}:10`,
      `1002@${line() + 4}:24`,
    ]);
    expect(out.diagnostics[0]?.message).toMatch(/i < N/);
  });
  it('continue in a while/do loop (DSL1002) is refused and shows the for form', () => {
    const out = compileSource(
      file,
      `${HEAD}\nexport const p = program({ section: 'syscall', license: 'GPL' }, () => {\n  let i: u32 = 0;\n  let s: u32 = 0;\n  while (i < 8) {\n    if (i === 3) continue;\n    s = u32(s + i);\n    i++;\n  }\n  do {\n    if (s === 3) continue;\n    s += 2;\n  } while (s < 40);\n  return 0;\n});\n`,
    );
    expect(out.diagnostics.map((d) => `${d.code}@${d.line}:${d.col}`)).toEqual([
      `1002@${line() + 3}:18`,
      `1002@${line() + 8}:18`,
    ]);
    expect(out.diagnostics[0]?.message).toMatch(/skips `i\+\+`.*for \(let i: u32 = START; i < 8; i\+\+\)/);
    expect(out.diagnostics[1]?.message).toMatch(
      /skips `s \+= 2`.*do-while loop.*for \(let s: u32 = START; s < 40; s \+= 2\)/,
    );
  });
  it('ring-buffer records not released on every path (DSL1004)', () => {
    const body =
      '  const r = rb.reserve(16);\n  if (r === null) return 0;\n  if (r.u8(0) === 1) { r.submit(); }\n  return 0;';
    expect(diags(body)).toEqual([`1004@${line()}:13`]);
    expect(diags('  const r = rb.reserve(16);\n  if (r === null) return 0;\n  r.submit();\n  return 0;')).toEqual([]);
  });
  it('pointers escaping as integers (DSL1005)', () => {
    expect(
      diags(
        '  const v = m.lookup(0);\n  if (v === null) return 0;\n  const w = m.lookup(0);\n  if (w === null) return 0;\n  if (v === w) return 1;\n  return 0;',
      ),
    ).toEqual([`1005@${line() + 4}:7`]);
  });
  it('values that may not fit their type (DSL1006) suggest the wrap', () => {
    const out = compileSource(
      file,
      `${HEAD}\nexport const p = program({ section: 'syscall', license: 'GPL' }, () => {\n  let a: u8 = 200;\n  a = a + 100;\n  return a;\n});\n`,
    );
    expect(out.diagnostics.map((d) => d.code)).toEqual([1006]);
    expect(formatDiagnostic(out.diagnostics[0]!)).toMatch(/diag-input\.ts:\d+:3: error DSL1006: .*u8\(a \+ 100\)/);
  });
  it('unsupported syntax (DSL1001) and unknown calls (DSL1008), all reported', () => {
    expect(diags("  const o = { a: 1 };\n  parseInt('1');\n  return 0;")).toEqual([
      `1001@${line()}:13`,
      `1008@${line() + 1}:3`,
    ]);
  });
  it('recursion (DSL1009) and a missing let type (DSL1011)', () => {
    const fn = 'function f(x: u32): i32 { return f(x); }';
    expect(diags('  let k = 1;\n  return f(2);', fn)).toEqual([`1009@4:34`, `1011@${line()}:7`]);
  });
  it('never throws on arbitrary TypeScript', () => {
    for (const body of [
      '  return "x";',
      '  class A {}',
      '  for (const x of [1]) {}',
      '  return 1 / 2;',
      '  switch (1) {}',
    ]) {
      expect(() => diags(body)).not.toThrow();
      expect(diags(body).length).toBeGreaterThan(0);
    }
  });
});
