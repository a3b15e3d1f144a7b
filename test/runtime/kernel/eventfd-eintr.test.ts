/**
 * A signal delivered while a thread waits on an eventfd (a profiler's SIGPROF, a terminal's SIGWINCH)
 * makes poll(2) fail with EINTR: the wait goes on for the rest of its timeout instead of failing.
 * A child process waits; this test signals it several times during the wait.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const CHILD = `
import { eventfdCreate, eventfdWaitSync } from './runtime/kernel/eventfd.ts';
process.on('SIGUSR2', () => {});
const fd = eventfdCreate();
process.stdout.write('waiting\\n');
const t0 = performance.now();
const got = eventfdWaitSync(fd, 1500);
process.stdout.write(JSON.stringify({ got, ms: Math.round(performance.now() - t0) }) + '\\n');
`;

describe('eventfd waits', () => {
  it('survive signals (EINTR) and still time out on time', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const signals: NodeJS.Timeout[] = [];
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('waiting') && signals.length === 0) {
        for (let i = 1; i <= 5; i++) signals.push(setTimeout(() => child.kill('SIGUSR2'), 150 * i));
      }
    });
    const code = await new Promise<number | null>((done) => child.on('close', done));
    for (const t of signals) clearTimeout(t);
    expect(err).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(out.split('\n')[1] ?? '{}') as { got: boolean; ms: number };
    expect(result.got).toBe(false);
    expect(result.ms).toBeGreaterThanOrEqual(1400);
  }, 20_000);
});
