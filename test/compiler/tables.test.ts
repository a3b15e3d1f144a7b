/**
 * Constant tables in .rodata (programs/crc32.ts): our verifier accepts the programs, native and
 * compiled agree (and the CRC equals zlib's), an index outside the table is the fault value in both,
 * and as root the object loads into the kernel's verifier.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bytes, type Program } from '../../compiler/dsl/index.ts';
import type { ArrayMap } from '../../compiler/dsl/maps.ts';
import { linkedInsns, linkedMaps, writeElf } from '../../compiler/index.ts';
import { syscall, verify } from '../../runtime/verifier/index.ts';
import { findTool, missingBpf } from '../support/env.ts';
import { compileFile, loadCompiled } from './support/harness.ts';

const FILE = new URL('./programs/crc32.ts', import.meta.url).pathname;
const out = compileFile(FILE);

describe('constant tables in .rodata', () => {
  it('compiles into .rodata and passes our verifier', () => {
    expect(out.diagnostics).toEqual([]);
    expect(out.rodata.length).toBeGreaterThanOrEqual(16 * 4 + 7);
    for (const p of out.programs) {
      const v = verify(linkedInsns(out, p), { policy: syscall, maps: linkedMaps(out) });
      expect(v.accepted, `${p.name}: ${v.summary}`).toBe(true);
    }
  });

  it('native = compiled = zlib on random inputs; out-of-range indexes fault in both', async () => {
    const mod = (await import(FILE)) as Record<string, unknown>;
    const input = mod.input as ArrayMap;
    const crc = loadCompiled(out, 'crc32');
    const delta = loadCompiled(out, 'delta');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 256, maxLength: 256 }), (bytes) => {
        input.update(0, new Bytes(bytes.slice()));
        const want = (mod.crc32 as Program).run();
        expect(crc.run(bytes).r0).toBe(BigInt(want));
        expect(want).toBe(zlibCrc32(bytes.subarray(1, 1 + Math.min(bytes[0] as number, 254))) | 0);
        const wantDelta = (mod.delta as Program).run();
        expect(delta.run(bytes).r0).toBe(BigInt(wantDelta));
        expect(wantDelta).toBe((bytes[0] as number) < 7 ? (bytes[0] as number) - 3 + 7 : -9);
      }),
      { numRuns: 200 },
    );
  });

  it('loads into the kernel verifier (bpftool prog loadall)', (ctx) => {
    const why = missingBpf() ?? (findTool('bpftool') === undefined ? 'bpftool is not installed' : undefined);
    if (why) ctx.skip(why);
    const tmp = mkdtempSync(join(tmpdir(), 'ukibpf-tables-'));
    const pins = `/sys/fs/bpf/ukibpf_tables_${process.pid}`;
    try {
      writeFileSync(join(tmp, 'crc32.o'), writeElf(out));
      const r = spawnSync(findTool('bpftool') as string, ['prog', 'loadall', join(tmp, 'crc32.o'), pins], {
        encoding: 'utf8',
      });
      expect(r.status, r.stderr.split('\n').slice(-20).join('\n')).toBe(0);
    } finally {
      rmSync(pins, { recursive: true, force: true });
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
