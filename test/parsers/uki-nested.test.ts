/**
 * Issue 7's "done when", end to end: a signed UKI whose `.bpf` is the compiled parsers/uki.ts and whose
 * `.linux` is an EFI zboot PE carrying the compiled parsers/zboot.ts in its own `.bpf` goes through
 * kexec_file_load with signature enforcement on. ThreadA (a worker) blocks in kexec_file_load through
 * the syscall channel; ThreadB (another worker, test/runtime/kernel/loader-worker.ts) waits on eventfd A,
 * loads each stage's `.bpf` from procfs over bpf() and signals eventfd B. The kimage's kernel is the
 * zboot payload decompressed (a bzImage), its initrd and command line are what systemd-stub would hand
 * over (formats/uki stubHandoff), and the kernel log shows both stages.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeElf } from '../../compiler/index.ts';
import { parseZboot } from '../../formats/kernel/index.ts';
import { buildUki, stubHandoff } from '../../formats/uki/index.ts';
import { KEXEC_FILE, Kernel, type Kimage, openEndpoint } from '../../runtime/kernel/index.ts';
import { buildPe } from '../formats/pe-build.ts';
import type { WorkerReport } from '../runtime/kernel/loader-worker.ts';
import { payload, sign, synthBzImage, tempDir } from '../runtime/kernel/support.ts';
import { startLoaderWorker } from '../runtime/kernel/thread-rig.ts';
import { zbootPe } from '../e2e/support.ts';
import { testKeys } from '../support/fixtures.ts';
import { cmdlineText } from '../support/uki-corpus.ts';
import { ukiParserObject } from './uki-support.ts';
import { zbootCompiled } from './zboot-support.ts';

const tmp = tempDir();
afterAll(() => tmp.remove());

/**
 * The kernel verifies the loader's PROG_LOAD on its own thread — this test's — so a program the
 * verifier takes minutes over would block the test beyond any timeout. A child process loads the
 * parser first, under a time limit, and the tests refuse to start when it does not load in time.
 */
const PROBE_MS = 60_000;
let probe: { ok: boolean; ms: number; why: string } | undefined;
beforeAll(() => {
  const code = `
    const { ukiParserObject } = await import('./test/parsers/uki-support.ts');
    const { Kernel, loadParser } = await import('./runtime/kernel/index.ts');
    const kernel = await Kernel.create({ procRoot: process.argv[1] });
    const obj = await ukiParserObject();
    const t0 = performance.now();
    const r = loadParser(kernel, obj, { logLevel: 1, addons: [] });
    const why = 'progFd' in r ? '' : r.step + ' ' + r.errno + ' ' + r.message + ' | ' + r.log.slice(-1500);
    console.log(JSON.stringify({ ok: 'progFd' in r, ms: Math.round(performance.now() - t0), why }));
    kernel.shutdown();`;
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', code, join(tmp.dir, 'probe')],
    {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      encoding: 'utf8',
      timeout: PROBE_MS,
    },
  );
  const last = r.stdout.trim().split('\n').at(-1);
  probe =
    r.status === 0 && last
      ? (JSON.parse(last) as { ok: boolean; ms: number; why: string })
      : { ok: false, ms: PROBE_MS, why: r.signal ? `no answer within ${PROBE_MS} ms` : r.stderr.slice(-1500) };
}, PROBE_MS + 10_000);

const parserLoads = (): void => {
  if (!probe?.ok) throw new Error(`parsers/uki.ts does not load in the kernel model: ${probe?.why}`);
};

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A stand-in systemd-stub: `.text`, an empty `.sbat` for ukify's merged one, header room. */
const stub = buildPe({
  sizeOfHeaders: 0x800,
  sections: [
    { name: '.text', data: new Uint8Array(16).fill(0xc3), characteristics: 0x60000020 },
    { name: '.sbat', data: new Uint8Array(0x180) },
  ],
}).bytes;

interface NestedRun {
  readonly resultA: WorkerReport;
  readonly resultB: WorkerReport;
  readonly exits: readonly number[];
  readonly kimage: Kimage | undefined;
  readonly dmesg: readonly string[];
  readonly leftover: readonly number[];
  readonly heldAfter: readonly number[];
}

/** ThreadB serves the handshake, ThreadA loads `image` with `cmdline` under KEXEC_SIG_FORCE. */
const runNested = async (name: string, image: Uint8Array, cmdline: string): Promise<NestedRun> => {
  const procRoot = join(tmp.dir, `proc-${name}`);
  const kernel = await Kernel.create({
    procRoot,
    keyrings: { builtin: [testKeys().rsa.cert] },
    sigPolicy: 'kexec_sig_force',
    handshakeTimeoutMs: 20_000,
  });
  const kernelPath = join(tmp.dir, `${name}.efi`);
  writeFileSync(kernelPath, image);
  const stop = new SharedArrayBuffer(4);
  const b = startLoaderWorker({ role: 'threadB', endpoint: openEndpoint(kernel), procRoot, stop, mode: 'load' });
  const ready = await b.next();
  if (!('event' in ready) || ready.event !== 'ready') throw new Error(`ThreadB: ${JSON.stringify(ready)}`);
  const a = startLoaderWorker({
    role: 'threadA',
    endpoint: openEndpoint(kernel),
    kernelPath,
    args: { initrdFd: -1, cmdline, flags: KEXEC_FILE.NO_INITRAMFS },
  });
  const resultA = await a.next();
  Atomics.store(new Int32Array(stop), 0, 1);
  // ThreadB answers within a poll interval unless it is stuck in a (synchronous) program load
  const late = new Promise<WorkerReport>((resolve) =>
    setTimeout(
      () => resolve({ role: 'threadB', event: 'done', stages: ['still loading: terminated'] }),
      10_000,
    ).unref(),
  );
  const resultB = await Promise.race([b.next(), late]);
  if ('stages' in resultB && resultB.stages[0] === 'still loading: terminated') await b.terminate();
  const exits = [await a.exited, await b.exited];
  const leftover = kernel.objects.fds;
  const kimage = kernel.kimage();
  const dmesg = kernel.dmesg();
  kernel.shutdown();
  return { resultA, resultB, exits, kimage, dmesg, leftover, heldAfter: kernel.heldFds() };
};

describe('a signed UKI with a zboot kernel inside, through kexec_file_load with a loader thread', () => {
  const bz = synthBzImage(payload(30_000, 9));
  const inner = zbootPe('gzip', new Uint8Array(gzipSync(bz)), bz.length, writeElf(zbootCompiled()));
  const profile1Initrd = payload(700, 3);
  const uki = (bpf: Uint8Array) =>
    sign(
      buildUki({
        stub,
        linux: inner,
        cmdline: utf8('  root=/dev/vda2 ro\tquiet '),
        initrds: [payload(1000, 1), payload(333, 2)],
        microcode: payload(96, 4),
        osRelease: utf8('ID=nested\n'),
        sections: [{ name: '.bpf', data: bpf }],
        profile: utf8('ID=default\n'),
        joinProfiles: [
          buildUki({ stub, profile: utf8('ID=debug\nTITLE=Debug\n'), cmdline: utf8('debug console=ttyS0') }),
          buildUki({ stub, profile: utf8('ID=rescue\n'), initrds: [profile1Initrd] }),
        ],
      }),
    );

  for (const userCmdline of ['', '@2 systemd.unit=rescue.target']) {
    it(`user command line ${JSON.stringify(userCmdline)}: both stages run, the kimage is the reference's`, async () => {
      parserLoads();
      expect(parseZboot(inner).compressionType).toBe('gzip');
      const image = uki(await ukiParserObject());
      const ref = stubHandoff({ uki: image, ...(userCmdline ? { loadOptions: userCmdline } : {}) });
      expect(ref.kernel).toEqual(inner);
      const r = await runNested(`nested${userCmdline.length}`, image, userCmdline);
      const log = r.dmesg.join('\n');
      expect(r.resultA, log).toEqual({ role: 'threadA', errno: 0 });
      if (!('stages' in r.resultB)) throw new Error(`ThreadB reported ${JSON.stringify(r.resultB)}`);
      expect(r.resultB.stages).toHaveLength(2);
      expect(
        r.resultB.stages.every((s) => s.startsWith('attached ')),
        r.resultB.stages.join('\n'),
      ).toBe(true);
      expect(r.kimage?.kernel).toEqual(bz);
      expect(r.kimage?.initrd).toEqual(ref.initrd);
      expect(cmdlineText(r.kimage?.cmdline)).toEqual(ref.cmdlineUtf8);
      expect(r.kimage?.stages.map((s) => s.depth)).toEqual([0, 1]);
      expect(r.kimage?.signature).toBeDefined();
      expect(log).toMatch(/depth 0: .*exposed/);
      expect(log).toMatch(/depth 1: .*exposed/);
      expect(log).toMatch(/depth 0: parser result uki status 0/);
      expect(log).toMatch(/depth 1: parser result zboot status 0/);
      expect(log).toContain('kexec_file: default image loaded');
      expect(r.exits).toEqual([0, 0]);
      expect(r.leftover).toEqual([]);
      expect(r.heldAfter).toEqual([]);
    });
  }
});
