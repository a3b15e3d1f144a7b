/**
 * kexec-bpfd in this process: sequential loads, 50 concurrent clients,
 * a client that leaves mid-request, protocol errors, and the graceful stop (fds: leaks.test.ts).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../../kexec-tools-shim/kexec-bpfd/server.ts';
import { writeImages } from './images.ts';

const dir = mkdtempSync(join(tmpdir(), 'kexec-bpfd-test-'));
const img = writeImages(dir);
const socket = join(dir, 'd.sock');
let daemon: Daemon;
beforeAll(async () => {
  daemon = await Daemon.start({ socket, keyrings: [img.cert], sigEnforce: true, timeoutMs: 3000 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Answer = Record<string, unknown> & { ok: boolean };

/** One request on a new connection; resolves with the answer line. */
const ask = (req: unknown, to = socket): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const c = connect(to);
    let buf = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        c.end();
        resolve(JSON.parse(buf.slice(0, nl)) as Answer);
      }
    });
    c.on('error', reject);
    c.write(`${typeof req === 'string' ? req : JSON.stringify(req)}\n`);
  });

const load = { op: 'load', kernel: '', cmdline: 'console=ttyS0' };

describe('kexec-bpfd', () => {
  it('loads, reports status, unloads', async () => {
    const a = await ask({ ...load, id: 1, kernel: img.signed, initrd: img.initrd });
    expect(a).toMatchObject({ id: 1, ok: true, kimage: { type: 'default', cmdline: 'console=ttyS0' } });
    const s = await ask({ op: 'status', id: 2 });
    expect(s).toMatchObject({ id: 2, ok: true, busy: false, loader: 'running', crash: null });
    expect((s.default as { kernel: { size: number } }).kernel.size).toBe(img.bz.length);
    expect(await ask({ op: 'unload', id: 3 })).toEqual({ id: 3, ok: true });
    expect((await ask({ op: 'status' })).default).toBeNull();
  });

  it('answers failures with errno, strerror and exit code', async () => {
    expect(await ask({ ...load, id: 'u', kernel: img.unsigned })).toMatchObject({
      id: 'u',
      ok: false,
      errno: 61,
      error: 'No data available',
      exitCode: 1,
    });
    const v = await ask({ ...load, kernel: img.rejected });
    expect(v).toMatchObject({ ok: false, errno: 2, exitCode: 1 });
    expect(JSON.stringify(v.stages)).toMatch(/processed \d+ insns/);
    expect(await ask({ ...load, kernel: 'relative.efi' })).toMatchObject({ ok: false, errno: 22, exitCode: 2 });
    expect(await ask('not json')).toMatchObject({ ok: false, errno: 22, error: 'not a JSON object' });
    expect(await ask({ op: 'reboot', id: 9 })).toMatchObject({ id: 9, ok: false, errno: 22 });
  });

  it('answers 100 sequential loads (RSS over them: leaks.test.ts, in a process of its own)', async () => {
    for (let i = 0; i < 100; i++) {
      const a = await ask({ ...load, id: i, kernel: img.signed });
      if (!a.ok || a.id !== i) throw new Error(JSON.stringify(a));
    }
    expect((await ask({ op: 'status' })).loads).toBeGreaterThanOrEqual(100);
  });

  it('answers 50 concurrent clients, one load at a time', async () => {
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => ask({ ...load, id: i, kernel: img.signed })),
    );
    expect(answers.map((a) => a.id)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(answers.every((a) => a.ok)).toBe(true);
  });

  it('is not wedged by a client that disconnects mid-request', async () => {
    await new Promise<void>((resolve) => {
      const c = connect(socket, () => {
        c.write(`${JSON.stringify({ ...load, kernel: img.signed })}\n`);
        setTimeout(() => {
          c.destroy();
          resolve();
        }, 5);
      });
    });
    // and one that leaves half a line behind
    await new Promise<void>((resolve) => {
      const c = connect(socket, () => {
        c.write('{"op":"lo');
        c.destroy();
        resolve();
      });
    });
    expect(await ask({ ...load, id: 'after', kernel: img.signed })).toMatchObject({ id: 'after', ok: true });
  });

  it('stops gracefully: the running request finishes, later ones are refused, the socket goes', async () => {
    // a daemon of its own whose loads take 400 ms (ThreadB holds eventfd B), so stop() surely finds one running
    const sock = join(dir, 'slow.sock');
    const slow = await Daemon.start({
      socket: sock,
      keyrings: [img.cert],
      sigEnforce: true,
      timeoutMs: 3000,
      fault: 'slow:400',
    });
    const late = connect(sock);
    await new Promise((r) => late.once('connect', r));
    const running = ask({ ...load, id: 'last', kernel: img.signed }, sock);
    for (let i = 0; i < 100 && (await ask({ op: 'status' }, sock)).busy !== true; i++)
      await new Promise((r) => setTimeout(r, 10));
    const stopped = slow.stop();
    const refused = new Promise<string>((resolve) => late.once('data', (d) => resolve(String(d))));
    late.write(`${JSON.stringify({ ...load, id: 'late', kernel: img.signed })}\n`);
    expect(JSON.parse(await refused)).toMatchObject({ id: 'late', ok: false, errno: 125 });
    late.destroy();
    expect(await running).toMatchObject({ id: 'last', ok: true });
    await stopped;
    expect(existsSync(sock)).toBe(false);
    await daemon.stop();
    expect(existsSync(socket)).toBe(false);
  });

  it('restarts a loader thread that died: the request it served fails with an error, the next one loads', async () => {
    const sock = join(dir, 'crash.sock');
    const d = await Daemon.start({
      socket: sock,
      keyrings: [img.cert],
      sigEnforce: true,
      timeoutMs: 300,
      fault: 'crash-once',
    });
    try {
      const failed = await ask({ ...load, id: 'c', kernel: img.signed }, sock);
      expect(failed).toMatchObject({ id: 'c', ok: false, exitCode: 4 });
      expect(failed.error).toMatch(/^the loader thread died: injected loader fault .* \(restarted\)$/);
      expect(await ask({ op: 'status' }, sock)).toMatchObject({ loader: 'running', loaderRestarts: 1 });
      expect(await ask({ ...load, id: 'next', kernel: img.signed }, sock)).toMatchObject({ id: 'next', ok: true });
    } finally {
      await d.stop();
    }
  });
});

describe('bin/kexec-bpfd', () => {
  it('serves on its socket and exits 0 on SIGTERM, removing the socket', async () => {
    const { spawn } = await import('node:child_process');
    const sock = join(dir, 'bin.sock');
    const bin = new URL('../../../bin/kexec-bpfd', import.meta.url).pathname;
    const child = spawn(process.execPath, [bin, '--socket', sock, '--keyring', img.cert, '--sig-enforce'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 300 && !stderr.includes('listening'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(stderr).toContain(`kexec-bpfd: listening on ${sock}`);
    const c = connect(sock);
    const answer = await new Promise<string>((resolve) => {
      c.on('data', (d) => resolve(String(d)));
      c.write(`${JSON.stringify({ op: 'load', id: 1, kernel: img.signed })}\n`);
    });
    expect(JSON.parse(answer)).toMatchObject({ id: 1, ok: true });
    c.destroy();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('SIGTERM: finishing the running request and stopping');
    expect(existsSync(sock)).toBe(false);
  });
});
