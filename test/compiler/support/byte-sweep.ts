/**
 * Checks the compiler suites share: a DSL file's program `p` compiles without a diagnostic, passes
 * our verifier, and returns the same R0 natively and compiled (for every value of input byte 0, the
 * other bytes a fixed function of it, in the fixed-case suites).
 */
import { expect } from 'vitest';
import { Bytes, type Program } from '../../../compiler/dsl/index.ts';
import type { ArrayMap } from '../../../compiler/dsl/maps.ts';
import { compileSource, formatDiagnostic, linkedInsns, linkedMaps } from '../../../compiler/index.ts';
import { syscall, verify } from '../../../runtime/verifier/index.ts';
import { loadCompiled } from './harness.ts';
import { evalDslModule } from './native.ts';

/** `head` (imports and maps, `input` first) and the body of `p`, which sees the input as `d`. */
export const programText = (head: string, body: string): string =>
  `${head}export const p = program({ section: 'syscall', license: 'GPL', fault: -7 }, () => {
  const d = input.lookup(0);
  if (d === null) return -1;${body}
});
`;

/**
 * Compiles `text` (no diagnostic), checks that our verifier accepts its program `p`, and returns `p`
 * loaded in the VM and the module evaluated natively.
 */
export const compiledAndNative = (file: string, text: string) => {
  const out = compileSource(file, text);
  expect(out.diagnostics.map((x) => formatDiagnostic(x))).toEqual([]);
  const prog = out.programs[0];
  if (prog === undefined) throw new Error('no program');
  const v = verify(linkedInsns(out, prog), { policy: syscall, maps: linkedMaps(out) });
  expect(v.accepted, v.summary).toBe(true);
  return { compiled: loadCompiled(out, 'p'), mod: evalDslModule(text) };
};

export const expectSameOnByteSweep = (file: string, text: string, step = 1): void => {
  const { compiled, mod } = compiledAndNative(file, text);
  for (let x = 0; x < 256; x += step) {
    const bytes = Uint8Array.from({ length: 64 }, (_, i) => (i === 0 ? x : (i * 37 + x) & 0xff));
    (mod.input as ArrayMap).update(0, new Bytes(bytes.slice()));
    expect(compiled.run(bytes).r0, `input byte ${x}`).toBe(BigInt((mod.p as Program).run()));
  }
};
