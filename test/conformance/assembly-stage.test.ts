/**
 * The assembly stage on a small synthetic corpus (the real one lives outside the repository and is
 * run by `make conformance`): it must pass what is right and fail what is wrong.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assemblyStage, CHECK, executionPending } from './assembly-stage.ts';
import { loadCorpus } from './corpus.ts';
import type { CheckResult } from './stage.ts';

const FILES: Record<string, string> = {
  'tests/good.data': '-- asm\nmov %r0, 1\nexit\n-- result\n0x1\n',
  'tests/both.data':
    '-- asm\nlddw %r0, 0x1122334455667788\nexit\n-- raw\n0x5566778800000018\n0x1122334400000000\n0x95\n-- result\n0x1122334455667788\n',
  'tests/mismatch.data': '-- asm\nmov %r0, 2\nexit\n-- raw\n0x1000000b7\n0x95\n-- result\n0x1\n',
  'tests/broken.data': '-- asm\nmov %r0, %r11\nexit\n-- result\n0x1\n',
  'tests/noresult.data': '-- asm\nexit\n',
  'negative/invalid_register.data': '-- asm\nor %r0, %r50\nexit\n-- error\nInvalid register',
  'negative/invalid_label.data': '-- asm\nja NOT_A_LABEL\nexit\n-- result\n0x11\n',
  'negative/invalid_mnemonic.data': '-- asm\nmov %r0, 1\nexit\n-- result\n0x11\n',
  'negative/unused-neg-imm.data': '-- raw\n87 00 00 00 01 00 00 00\n95 00 00 00 00 00 00 00\n-- error\n',
  'negative/unused-neg-src.data': '-- raw\n87 00 00 00 00 00 00 00\n95 00 00 00 00 00 00 00\n-- error\n',
  'negative/unused-exit-dst.data': '-- raw\n95 00 01 00 00 00 00 00\n95 00 00 00 00 00 00 00\n-- error\n',
  'negative/empty.data': '# nothing\n',
  'negative/error.data': '-- asm\nor %r0, %r10\nexit\n-- error\nInvalid',
  'negative/brand_new.data': '-- asm\nexit\n-- result\n0\n',
};

let dir: string;
let results: CheckResult[];
const of = (file: string): string[] =>
  results.filter((r) => `${r.group}/${r.file}` === file).map((r) => `${r.check}: ${r.status}`);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ukibpf-conformance-'));
  for (const [path, text] of Object.entries(FILES)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  results = loadCorpus(dir).flatMap((c) => [...assemblyStage.run(c), ...executionPending.run(c)]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('assembly stage', () => {
  it('passes a good test and leaves its execution pending', () => {
    expect(of('tests/good.data')).toEqual([
      `${CHECK.assembled}: pass`,
      `${CHECK.roundTrip}: pass`,
      `${CHECK.executed}: pending`,
    ]);
  });

  it('compares -- asm with -- raw', () => {
    expect(of('tests/both.data')).toContain(`${CHECK.asmIsRaw}: pass`);
    expect(of('tests/mismatch.data')).toContain(`${CHECK.asmIsRaw}: fail`);
  });

  it('fails a test that does not assemble or that the reference would skip', () => {
    expect(of('tests/broken.data')).toEqual([`${CHECK.assembled}: fail`]);
    expect(of('tests/noresult.data')).toEqual([`${CHECK.parsed}: fail`]);
  });

  it('checks assembler errors against upstream expectations and the file’s -- error', () => {
    expect(of('negative/invalid_register.data')).toEqual([`${CHECK.asmRejected}: pass`]);
    expect(of('negative/invalid_label.data')).toEqual([`${CHECK.asmRejected}: pass`]);
    // A negative file that assembles is a failure.
    expect(of('negative/invalid_mnemonic.data')).toEqual([`${CHECK.asmRejected}: fail`]);
  });

  it('requires unused-field encodings to be rejected for the field the name gives', () => {
    expect(of('negative/unused-neg-imm.data')).toEqual([`${CHECK.unusedRejected}: pass`]);
    // valid neg: nothing to reject
    expect(of('negative/unused-neg-src.data')).toEqual([`${CHECK.unusedRejected}: fail`]);
    // rejected, but for the wrong field (offset, not dst)
    expect(of('negative/unused-exit-dst.data')).toEqual([`${CHECK.unusedRejected}: fail`]);
  });

  it('handles skipped, execution-time and unknown negative files', () => {
    expect(of('negative/empty.data')).toEqual([`${CHECK.skipped}: pass`]);
    expect(of('negative/error.data')).toEqual([`${CHECK.assemblesForExecution}: pass`, `${CHECK.executed}: pending`]);
    expect(of('negative/brand_new.data')).toEqual([`${CHECK.known}: fail`]);
  });
});
