/**
 * No stray fds, threads or temp files: leak-scenario.ts runs sessions and the daemon in a process of
 * its own and lists the fds left open; the process must exit by itself soon after.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { E } from '../../../bpf/abi/index.ts';

const SCENARIO = fileURLToPath(new URL('./leak-scenario.ts', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'kexec-bpf-leaktmp-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it('leaves no fd, thread or temporary file behind, whatever way the loads end', () => {
  mkdirSync(tmp, { recursive: true });
  const r = spawnSync(process.execPath, ['--import', 'tsx', SCENARIO], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, TMPDIR: tmp },
  });
  expect(r.signal, `killed: the process did not exit by itself\n${r.stderr}`).toBeNull();
  expect(r.status, r.stderr).toBe(0);
  const report = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}');
  expect(report.errnos).toEqual({
    loaded: 0,
    untrusted: -E.ENOKEY,
    verifier: -E.ENOENT,
    crash: `crash ${-E.ETIMEDOUT}`,
    restarted: `crash ${-E.ETIMEDOUT}, then 0`,
    daemon: 3,
  });
  expect(report.leaked).toEqual([]);
  const mib = (n: number): string => (n / 2 ** 20).toFixed(1);
  console.log(
    `kexec-bpfd: ${report.rss.loads} sequential loads, RSS ${mib(report.rss.before)} → ${mib(report.rss.after)} MiB`,
  );
  expect(report.rss.after - report.rss.before).toBeLessThan(64 * 2 ** 20);
  // tsx keeps its compile cache in TMPDIR (tsx-<uid>): not ours
  expect(readdirSync(tmp).filter((n) => !n.startsWith('tsx-'))).toEqual([]);
});
