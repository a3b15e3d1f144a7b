/**
 * Golden listings of the hand-written programs (UPDATE_GOLDEN=1 rewrites them), and, as root, each
 * program's ELF object loaded into this machine's kernel verifier with bpftool.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listing, writeElf } from '../../compiler/index.ts';
import { findTool, missingBpf } from '../support/env.ts';
import { compileFile } from './support/harness.ts';

const dir = new URL('./', import.meta.url).pathname;
const PROGRAMS = ['checksum', 'fnv1a', 'memcmp', 'pe-scan', 'cpio-header', 'zboot-header'];

describe('golden listings', () => {
  for (const name of PROGRAMS) {
    it(`${name}.ts → golden/${name}.s`, () => {
      const out = compileFile(join(dir, 'programs', `${name}.ts`));
      expect(out.diagnostics).toEqual([]);
      const text = listing(out);
      const golden = join(dir, 'golden', `${name}.s`);
      if (process.env.UPDATE_GOLDEN === '1' || !existsSync(golden)) writeFileSync(golden, text);
      expect(text).toBe(readFileSync(golden, 'utf8'));
    });
  }
});

describe('the kernel verifier accepts the compiled objects', () => {
  for (const name of [...PROGRAMS, 'sections', 'calls']) {
    it(`${name}: bpftool prog load`, (ctx) => {
      const why = missingBpf();
      if (why) ctx.skip(why);
      const out = compileFile(join(dir, 'programs', `${name}.ts`));
      const tmp = mkdtempSync(join(tmpdir(), 'ukibpf-compile-'));
      const obj = join(tmp, `${name}.o`);
      const pin = `/sys/fs/bpf/ukibpf_test_${process.pid}_${name.replace(/-/g, '_')}`;
      try {
        writeFileSync(obj, writeElf(out));
        const r = spawnSync(findTool('bpftool') as string, ['prog', 'load', obj, pin], {
          encoding: 'utf8',
          maxBuffer: 64 << 20,
        });
        expect(r.status, r.stderr.split('\n').slice(-25).join('\n')).toBe(0);
      } finally {
        rmSync(pin, { force: true });
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  }
});
