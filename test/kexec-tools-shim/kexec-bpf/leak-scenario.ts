/**
 * Run by leaks.test.ts in a process of its own (the test pool's other threads open fds too): loader
 * sessions ending every way (loaded, refused signature, verifier rejection, loader crash, a crashed loader
 * restarted) and a daemon
 * serving loads (the RSS measured over sequential ones) then stopping, with /proc/self/fd listed before and after. Prints one JSON line; the
 * process must then exit by itself (no worker, port, socket or poll left behind).
 */
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoaderSession } from '../../../kexec-tools-shim/kexec-bpf/session.ts';
import { Daemon } from '../../../kexec-tools-shim/kexec-bpfd/server.ts';
import { writeImages } from './images.ts';

const SEQUENTIAL = Number(process.env.KEXEC_BPF_LOADS ?? 100);

const fdTable = (): string[] =>
  readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [`${fd} ${readlinkSync(`/proc/self/fd/${fd}`)}`];
    } catch {
      return [];
    }
  });

const dir = mkdtempSync(join(tmpdir(), 'kexec-bpf-leaks-'));
const img = writeImages(dir);
// libuv keeps one spare fd (/dev/null) per loop from the first listen() on, for EMFILE: not ours
const probe = createServer();
await new Promise<void>((resolve) => probe.listen(join(dir, 'probe.sock'), () => resolve()));
await new Promise<void>((resolve) => probe.close(() => resolve()));
const before = fdTable();

const errnos: Record<string, number | string> = {};
for (const [name, fault, kernelPath] of [
  ['loaded', undefined, img.signed],
  ['untrusted', undefined, img.otherKey],
  ['verifier', undefined, img.rejected],
  ['crash', 'crash', img.signed],
] as const) {
  const s = await LoaderSession.open({ keyrings: [img.cert], sigEnforce: true, timeoutMs: 300, fault });
  const out = await s.load({ kernelPath, initrdPath: img.initrd, panic: false, addons: [img.addonFile] });
  errnos[name] = out.loaderCrash ? `crash ${out.errno}` : out.errno;
  await s.close();
}

// a crashed loader replaced by restartLoader() (what the daemon does): the new pair loads, nothing leaks
{
  const s = await LoaderSession.open({ keyrings: [img.cert], sigEnforce: true, timeoutMs: 300, fault: 'crash-once' });
  const crashed = await s.load({ kernelPath: img.signed, panic: false, addons: [img.addonFile] });
  await s.restartLoader();
  const again = await s.load({ kernelPath: img.signed, panic: false, addons: [img.addonFile] });
  errnos.restarted = `${crashed.loaderCrash ? 'crash' : 'no crash'} ${crashed.errno}, then ${again.errno}`;
  await s.close();
}

const socket = join(dir, 'd.sock');
const d = await Daemon.start({ socket, keyrings: [img.cert], sigEnforce: true, timeoutMs: 3000 });
const ask = (req: unknown): Promise<string> =>
  new Promise((resolve) => {
    const c = connect(socket);
    c.on('data', (x) => {
      c.end();
      resolve(String(x));
    });
    c.write(`${JSON.stringify(req)}\n`);
  });
const answers = await Promise.all([1, 2, 3].map((id) => ask({ op: 'load', id, kernel: img.signed })));
errnos.daemon = answers.filter((a) => JSON.parse(a).ok === true).length;
// sequential loads: the RSS before and after (the issue asks 1,000; 100 keep the test short)
const rss0 = process.memoryUsage.rss();
for (let i = 0; i < SEQUENTIAL; i++) {
  const a = JSON.parse(await ask({ op: 'load', id: i, kernel: img.signed }));
  if (a.ok !== true) throw new Error(`load ${i}: ${JSON.stringify(a)}`);
}
const rss = { before: rss0, after: process.memoryUsage.rss(), loads: SEQUENTIAL };
await d.stop();

rmSync(dir, { recursive: true, force: true });
const after = fdTable();
process.stdout.write(`${JSON.stringify({ errnos, rss, leaked: after.filter((f) => !before.includes(f)) })}\n`);
