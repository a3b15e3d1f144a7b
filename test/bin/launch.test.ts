/**
 * bin/launch.mjs: the CLIs run from an esbuild bundle that is rebuilt when it is older than a source it was
 * built from, and the bundle (main thread and loader threads) does what the sources through tsx do.
 * The bundle is built into a temporary UKIBPF_DIST, so the repository's own .cache/dist is left alone.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeImages } from '../kexec-tools-shim/kexec-bpf/images.ts';

const BIN = new URL('../../bin/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'ukibpf-launch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ROOT = new URL('../..', import.meta.url).pathname;
// inside the repository, so that the bundle's npm imports resolve to its node_modules
const dist = join(ROOT, '.cache', `launch-test-${process.pid}`);
afterAll(() => rmSync(dist, { recursive: true, force: true }));
/** The bundle directory as the launcher names it (relative to the repository). */
const distRel = relative(ROOT, dist);
const img = writeImages(dir);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const run = (cli: string, args: string[], env: Record<string, string>): Promise<Run> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(BIN, cli), ...args],
      { env: { ...process.env, UKIBPF_DIST: dist, UKIBPF_DEBUG_LAUNCH: '1', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
  });

const manifest = (): { builtAt: number; inputs: string[] } =>
  JSON.parse(readFileSync(join(dist, 'manifest.json'), 'utf8'));

/** What the launcher said it ran (its first stderr line), and the rest of stderr. */
const split = (r: Run): { launched: string; rest: string } => {
  const [launched = '', ...rest] = r.stderr.split('\n');
  return { launched, rest: rest.join('\n') };
};

describe('bin/launch.mjs', () => {
  it('builds the bundle once, reuses it, rebuilds it when a source is newer, and runs it like the sources', async () => {
    const load = ['-s', '-l', img.signed, '--keyring', img.cert, '--sig-enforce', '--initrd', img.initrd, '--json'];
    const first = await run('kexec-bpf', load, {});
    expect(split(first).launched).toBe(`launch: rebuilt bundle ${distRel}/kexec-bpf.mjs`);
    expect(first.code).toBe(0);
    const built = manifest();
    expect(built.inputs).toContain('kexec-tools-shim/kexec-bpf/main.ts');
    expect(built.inputs).toContain('runtime/verifier/verify.ts');
    expect(built.inputs).toContain('bin/launch.mjs');

    const second = await run('kexec-bpf', load, {});
    expect(split(second).launched).toBe(`launch: bundle ${distRel}/kexec-bpf.mjs`);
    expect(manifest().builtAt).toBe(built.builtAt);

    // a bundle built before its sources' last change is stale; a rebuild removes chunks of builds an hour
    // old, and keeps younger ones (a process started on them may still import them)
    writeFileSync(join(dist, 'manifest.json'), JSON.stringify({ ...built, builtAt: 0 }));
    const old = join(dist, 'chunks', 'chunk-OLD.mjs');
    const young = join(dist, 'chunks', 'chunk-YOUNG.mjs');
    writeFileSync(old, '');
    writeFileSync(young, '');
    utimesSync(old, new Date(Date.now() - 2 * 3600_000), new Date(Date.now() - 2 * 3600_000));
    const third = await run('kexec-bpf', load, {});
    expect(split(third).launched).toBe(`launch: rebuilt bundle ${distRel}/kexec-bpf.mjs`);
    expect(manifest().builtAt).toBeGreaterThan(0);
    expect([existsSync(old), existsSync(young)]).toEqual([false, true]);

    const source = await run('kexec-bpf', load, { UKIBPF_FROM_SOURCE: '1' });
    expect(split(source).launched).toBe('launch: sources kexec-tools-shim/kexec-bpf/main.ts through tsx');
    expect(source.code).toBe(0);
    // the same kimage (buffers, digests, segments) and the same handshake, timings and fd numbers aside
    const strip = (r: Run): unknown => {
      // descriptor numbers differ: tsx holds more files open
      const j = JSON.parse(r.stdout.replace(/fd \d+/g, 'fd N'));
      delete j.timings;
      delete j.maxRssKb;
      j.load.stages = j.load.stages.map((s: { log: string }) => ({ ...s, log: s.log.replace(/\d+ usec/, 'N usec') }));
      return j;
    };
    expect(strip(first)).toEqual(strip(source));
    expect(split(first).rest).toBe(split(source).rest);
  });

  it('runs ukibpf from the bundle', async () => {
    const r = await run('ukibpf', ['--version'], {});
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version,
    );
  });
});
