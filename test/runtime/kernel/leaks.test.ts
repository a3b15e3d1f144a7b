/**
 * No stray fds and no stray threads: fd-scenario.ts runs the handshakes in a process of its own (the
 * test pool's other threads open fds too) and reports /proc/self/fd before and after; the process must
 * exit by itself soon after, which it cannot while a worker, port or pending poll is alive.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { E } from '../../../bpf/abi/index.ts';

const SCENARIO = fileURLToPath(new URL('./fd-scenario.ts', import.meta.url));

describe('after the handshakes', () => {
  it('leaves no fd open and lets the process exit', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', SCENARIO], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal, `killed: the process did not exit by itself\n${r.stderr}`).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(report.threads).toEqual({ role: 'threadA', errno: 0 });
    expect(report.timeout).toEqual({ role: 'threadA', errno: -E.ETIMEDOUT });
    expect(report.inThread).toBe(0);
    expect(report.after).toBe(report.before);
  });
});
