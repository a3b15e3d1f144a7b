/**
 * bpf-to-bpf calls (`noinline`): programs/calls.ts passes our verifier (and, as root, the kernel's:
 * golden-and-kernel.test.ts) and agrees natively and compiled, faults inside a callee included; the
 * object carries one static FUNC per subprogram; signatures outside the calling convention, recursion
 * and a call chain past 512 bytes of stack are diagnostics.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bytes, type Program } from '../../compiler/dsl/index.ts';
import type { ArrayMap } from '../../compiler/dsl/maps.ts';
import { compileSource, linkedInsns, linkedMaps, objectSpec } from '../../compiler/index.ts';
import { syscall, verify } from '../../runtime/verifier/index.ts';
import { compileFile, loadCompiled } from './support/harness.ts';

const path = new URL('./programs/calls.ts', import.meta.url).pathname;
const FILE = new URL('./programs/calls-diag.ts', import.meta.url).pathname;
const HEAD = `import { arrayMap, noinline, program, stackBytes, type Bytes, type u32, type u64 } from '../../../compiler/dsl/index.ts';
export const input = arrayMap({ valueSize: 64, maxEntries: 1 });
`;
const diags = (text: string): string[] =>
  compileSource(FILE, `${HEAD}${text}`).diagnostics.map((d) => `${d.code}@${d.line}:${d.col}`);

describe('bpf-to-bpf calls', () => {
  it('calls.ts: one copy of each callee, linked after the program, accepted by our verifier', () => {
    const out = compileFile(path);
    expect(out.diagnostics).toEqual([]);
    expect(out.subprograms.map((s) => s.name).sort()).toEqual(['both', 'diff', 'mark', 'sum']);
    const prog = out.programs[0];
    if (prog === undefined) throw new Error('no program');
    // four calls in the program, two in `both`: BPF_PSEUDO_CALL with a relocation each
    expect(prog.relocs.filter((r) => r.call).map((r) => r.symbol)).toEqual(['sum', 'diff', 'mark', 'both']);
    const linked = linkedInsns(out, prog);
    const calls = linked.filter((i) => i.spec.name === 'call_local');
    expect(calls).toHaveLength(6);
    expect(calls.every((c) => c.imm > 0 || linked.indexOf(c) > prog.insns.length)).toBe(true);
    expect(verify(linked, { policy: syscall, maps: linkedMaps(out) }).accepted).toBe(true);
    const spec = objectSpec(out);
    expect(spec.subprograms?.map((s) => [s.name, s.params?.map((p) => p.name)])).toEqual(
      out.subprograms.map((s) => [s.name, s.params]),
    );
  });
  it('native = compiled on 300 inputs, faults inside a callee included', async () => {
    const out = compileFile(path);
    const compiled = loadCompiled(out, 'calls');
    const mod = (await import(path)) as Record<string, unknown>;
    const input = mod.input as ArrayMap;
    const seen = new Set<bigint>();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 256, maxLength: 256 }), fc.nat(), (b, pick) => {
        if (pick % 3 !== 0) b[0] = b[0] as number & 0x7f; // most sums stay inside
        b[2] = pick % 5 === 0 ? 255 : (b[2] as number) & 0x7f;
        input.update(0, new Bytes(b.slice()));
        const want = BigInt((mod.calls as Program).run());
        const wantMem = (input.lookup(0) as Bytes).raw().slice();
        const got = compiled.run(b);
        expect(got.r0).toBe(want);
        expect(got.memory).toEqual(wantMem);
        seen.add(want);
      }),
      { numRuns: 300 },
    );
    expect(seen.has(-9n)).toBe(true);
    expect(seen.size).toBeGreaterThan(100);
  });
  it('views, u64 and a sixth parameter are refused; so are recursion and deep stacks', () => {
    expect(
      diags(`const f = noinline((b: Bytes): u32 => b.u8(0));
const g = noinline((x: u64): u32 => 0);
const h = noinline((a: u32, b: u32, c: u32, d: u32, e: u32, f6: u32): u32 => a);
export const p = program({ section: 'syscall', license: 'GPL' }, () => {
  const d = input.lookup(0);
  if (d === null) return 0;
  return f(d) + g(1n) + h(1, 2, 3, 4, 5, 6);
});
`),
    ).toEqual(['1001@3:21', '1001@4:21', '1001@5:61']);
    expect(
      diags(`const r = noinline((x: u32): u32 => (x === 0 ? 0 : r(x >>> 1)));
export const p = program({ section: 'syscall', license: 'GPL' }, () => r(3) & 0xffff);
`),
    ).toEqual(['1009@3:20']);
    expect(
      diags(`const big = noinline((x: u32): u32 => { const s = stackBytes(256); const t = stackBytes(200); return s.u8(x & 255) + t.u8(0); });
export const p = program({ section: 'syscall', license: 'GPL' }, () => { const s = stackBytes(128); return (s.u8(0) + big(1)) & 0xffff; });
`),
    ).toEqual(['1010@4:14']);
  });
});
