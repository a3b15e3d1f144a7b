/**
 * bpfLoop: a `noinline` callback passed to bpf_loop (181) by address (lddw BPF_PSEUDO_FUNC). The object
 * relocates the address as clang does (R_BPF_64_64 against .text, the callback's offset in the
 * instruction), our verifier checks the body once where a `for` loop costs once per iteration, the
 * program agrees natively and compiled, the kernel's verifier loads it (as root), and callbacks
 * outside the convention are diagnostics.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { R_BPF } from '../../bpf/elf/constants.ts';
import { readObject } from '../../bpf/elf/index.ts';
import { Bytes, type Program } from '../../compiler/dsl/index.ts';
import type { ArrayMap } from '../../compiler/dsl/maps.ts';
import { compileSource, linkedInsns, linkedMaps, writeElf } from '../../compiler/index.ts';
import { linkProgram } from '../../runtime/verifier/load/object.ts';
import { syscall, verify } from '../../runtime/verifier/index.ts';
import { findTool, missingBpf } from '../support/env.ts';
import { compileFile, loadCompiled } from './support/harness.ts';

const path = new URL('./programs/loop-callback.ts', import.meta.url).pathname;
const FILE = new URL('./programs/loop-diag.ts', import.meta.url).pathname;
const HEAD = `import { arrayMap, bpfLoop, noinline, program, type u32 } from '../../../compiler/dsl/index.ts';
export const input = arrayMap({ valueSize: 64, maxEntries: 1 });
`;
const diags = (text: string): string[] =>
  compileSource(FILE, `${HEAD}${text}`).diagnostics.map((d) => `${d.code}@${d.line}:${d.col}`);

describe('bpfLoop callbacks', () => {
  it('relocates the callback address as clang does and links it as BPF_PSEUDO_FUNC', () => {
    const out = compileFile(path);
    expect(out.diagnostics).toEqual([]);
    expect(out.subprograms.map((s) => s.name)).toEqual(['step', 'stepUnchecked']);
    const prog = out.programs.find((p) => p.name === 'viaLoop');
    if (prog === undefined) throw new Error('no viaLoop');
    expect(prog.relocs.filter((r) => r.funcAddr).map((r) => r.symbol)).toEqual(['step']);
    const linked = linkedInsns(out, prog);
    const addr = linked.find((i) => i.spec.kind === 'lddw' && i.src === 4);
    expect(addr).toBeDefined();
    // the object: R_BPF_64_64 against the .text section symbol, the offset in the instruction
    const obj = readObject(writeElf(out));
    const fn = obj.programs.find((p) => p.name === 'viaLoop');
    const rel = fn?.relocations.find((r) => r.symbol.section === '.text');
    expect(rel?.type).toBe(R_BPF.R_BPF_64_64);
    expect(rel?.symbol.type).toBe(3); // STT_SECTION
    const step = obj.subprograms.find((s) => s.name === 'step');
    expect(fn?.insns[rel?.insn ?? -1]?.imm).toBe(step?.offset);
    // loaded from the object, the address points where the linker put `step`
    const fromElf = linkProgram(obj, fn as NonNullable<typeof fn>);
    const v = verify(fromElf.slots, {
      policy: syscall,
      maps: linkedMaps(out),
      ...(fromElf.funcLinkage ? { funcLinkage: fromElf.funcLinkage } : {}),
    });
    expect(v.accepted, v.log).toBe(true);
  });

  it('is verified once for all iterations: far fewer processed instructions than the same `for` loop', () => {
    const out = compileFile(path);
    const processed = (name: string): number => {
      const p = out.programs.find((x) => x.name === name);
      if (p === undefined) throw new Error(name);
      const r = verify(linkedInsns(out, p), {
        policy: syscall,
        maps: linkedMaps(out),
        funcLinkage: ['global', 'static'],
      });
      expect(r.accepted, r.log).toBe(true);
      return r.stats.insnProcessed;
    };
    const viaLoop = processed('viaLoop');
    const viaFor = processed('viaFor');
    expect(viaLoop * 20).toBeLessThan(viaFor);
  });

  it('native = compiled, bpfLoop and the `for` loop agree, on 300 inputs', async () => {
    const out = compileFile(path);
    const loop = loadCompiled(out, 'viaLoop');
    const plain = loadCompiled(out, 'viaFor');
    const mod = (await import(path)) as Record<string, unknown>;
    const input = mod.input as ArrayMap;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 256, maxLength: 256 }), fc.nat(255), (b, nul) => {
        if (nul < 200) b[nul] = 0;
        input.update(0, new Bytes(b.slice()));
        const want = BigInt((mod.viaLoop as Program).run());
        expect(BigInt((mod.viaFor as Program).run())).toBe(want);
        expect(loop.run(b).r0).toBe(want);
        expect(plain.run(b).r0).toBe(want);
      }),
      { numRuns: 300 },
    );
  });

  it("the kernel's verifier loads the object (bpftool prog loadall)", (ctx) => {
    const why = missingBpf();
    if (why) ctx.skip(why);
    const tmp = mkdtempSync(join(tmpdir(), 'ukibpf-loop-'));
    const pin = `/sys/fs/bpf/ukibpf_loop_${process.pid}`;
    try {
      const obj = join(tmp, 'loop.o');
      writeFileSync(obj, writeElf(compileFile(path)));
      const r = spawnSync(findTool('bpftool') as string, ['prog', 'loadall', obj, pin], { encoding: 'utf8' });
      expect(r.status, r.stderr.split('\n').slice(-25).join('\n')).toBe(0);
    } finally {
      rmSync(pin, { recursive: true, force: true });
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('a fault in a callback ends the program with the fault value, natively and compiled (300 inputs)', async () => {
    const out = compileFile(path);
    const faulting = loadCompiled(out, 'viaFaulting');
    const mod = (await import(path)) as Record<string, unknown>;
    const input = mod.input as ArrayMap;
    let faults = 0;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 256, maxLength: 256 }), (b) => {
        input.update(0, new Bytes(b.slice()));
        const want = BigInt((mod.viaFaulting as Program).run());
        const sum = [...b.subarray(0, Math.min(256, (b[0] ?? 0) + (b[1] ?? 0)))].reduce((x, y) => x + y, 0);
        if ((b[0] ?? 0) + (b[1] ?? 0) > 256) faults++;
        else expect(want).toBe(BigInt(sum));
        expect(faulting.run(b).r0).toBe(want);
      }),
      { numRuns: 300 },
    );
    expect(faults).toBeGreaterThan(50);
  });

  it('refuses callbacks outside the convention, and a callback that may fault and is also called directly', () => {
    const prog = (cb: string, pass = 'cb'): string => `${cb}
export const p = program({ section: 'syscall', license: 'GPL' }, () => bpfLoop(8, ${pass}));`;
    // a view access the compiler cannot prove in bounds: the fault leaves through the loop's flag
    const unchecked = `const cb = noinline((i: u32): boolean => { const d = input.lookup(0); return d === null || d.u8(i) === 0; });`;
    expect(diags(prog(unchecked))).toEqual([]);
    // ... which a direct call of the same function could not see
    expect(
      diags(
        prog(unchecked, 'cb') +
          "\nexport const q = program({ section: 'syscall', license: 'GPL' }, () => (cb(3) ? 1 : 0));",
      ),
    ).toEqual(['1019@3:21']);
    // the index masked: no fault path, accepted
    expect(
      diags(
        prog(
          `const cb = noinline((i: u32): boolean => { const d = input.lookup(0); return d === null || d.u8(i & 63) === 0; });`,
        ),
      ),
    ).toEqual([]);
    // not a boolean result, two parameters (TypeScript says so too), an inlined function
    expect(diags(prog('const cb = noinline((i: u32): u32 => i);'))).toEqual(['1000@4:83', '1001@4:83']);
    expect(diags(prog('const cb = noinline((i: u32, j: u32): boolean => i === j);'))).toEqual([
      '1000@4:83',
      '1001@4:83',
    ]);
    expect(diags(prog('const cb = (i: u32): boolean => i === 3;'))).toEqual(['1001@4:83']);
  });
});
