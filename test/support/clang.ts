/**
 * Compiles the C fixtures in test/fixtures/clang with the real clang (`-O2 -target bpf -mcpu=vN -g`)
 * into .cache/clang/, once per content hash, so tests can compare against clang and llvm-objdump.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { findTool } from './env.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const CLANG_FIXTURES = join(REPO_ROOT, 'test/fixtures/clang');
const CACHE = join(REPO_ROOT, '.cache/clang');

export type Cpu = 'v1' | 'v2' | 'v3';

/** The C fixture files (absolute paths), sorted. */
export const clangFixtures = (): string[] =>
  readdirSync(CLANG_FIXTURES)
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => join(CLANG_FIXTURES, f));

/** Compiles one fixture for one CPU level; returns the object's path. Throws with clang's stderr on failure. */
export const compileFixture = (source: string, cpu: Cpu, extraFlags: readonly string[] = []): string => {
  const clang = findTool('clang');
  if (clang === undefined) throw new Error('clang is not installed');
  const flags = ['-O2', '-g', '-target', 'bpf', `-mcpu=${cpu}`, ...extraFlags];
  const hash = createHash('sha256').update(readFileSync(source)).update(flags.join(' ')).digest('hex').slice(0, 16);
  mkdirSync(CACHE, { recursive: true });
  const out = join(CACHE, `${basename(source, '.c')}.${cpu}.${hash}.o`);
  if (existsSync(out)) return out;
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync(clang, [...flags, '-I', CLANG_FIXTURES, '-c', source, '-o', tmp], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`clang failed on ${basename(source)} (${cpu}):\n${r.stderr}`);
  renameSync(tmp, out);
  return out;
};
