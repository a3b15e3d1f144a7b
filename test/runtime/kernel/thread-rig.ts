/**
 * Runs the two loader threads (loader-worker.ts) against a fresh kernel: ThreadB registers and serves
 * the handshake, ThreadA loads a nested signed image. Shared by threads.test.ts and fd-scenario.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { KEXEC_FILE, Kernel, type Kimage, openEndpoint } from '../../../runtime/kernel/index.ts';
import { testKeys } from '../../support/fixtures.ts';
import type { WorkerJob, WorkerReport } from './loader-worker.ts';
import { parserPe, payload, sign, synthBzImage } from './support.ts';

const BOOT = new URL('./worker-boot.mjs', import.meta.url);
const ENTRY = new URL('./loader-worker.ts', import.meta.url).href;

export interface RunningWorker {
  next(): Promise<WorkerReport>;
  readonly exited: Promise<number>;
  terminate(): Promise<number>;
}

/** Starts a loader-worker.ts thread (ThreadA or ThreadB) for `job`; reports arrive in order through next(). */
export const startLoaderWorker = (job: WorkerJob): RunningWorker => {
  const worker = new Worker(BOOT, { workerData: { entry: ENTRY, job }, transferList: [job.endpoint.port] });
  const queued: WorkerReport[] = [];
  const waiting: ((m: WorkerReport) => void)[] = [];
  worker.on('message', (m: WorkerReport) => {
    const w = waiting.shift();
    if (w) w(m);
    else queued.push(m);
  });
  const exited = new Promise<number>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('exit', resolve);
  });
  return {
    exited,
    terminate: () => worker.terminate(),
    next: () => {
      const m = queued.shift();
      return m ? Promise.resolve(m) : new Promise((resolve) => waiting.push(resolve));
    },
  };
};

export interface ThreadRun {
  readonly resultA: WorkerReport;
  readonly resultB: WorkerReport;
  readonly exitA: number;
  readonly exitB: number;
  readonly kimage: Kimage | undefined;
  readonly dmesg: readonly string[];
  readonly bz: Uint8Array;
  /** Kernel objects left open by the loader before shutdown, and fds the kernel held after it. */
  readonly leftover: readonly number[];
  readonly heldAfter: readonly number[];
}

export const runThreads = async (dir: string, mode: 'load' | 'ignore', timeoutMs: number): Promise<ThreadRun> => {
  const procRoot = join(dir, `proc-${mode}`);
  const kernel = await Kernel.create({
    procRoot,
    keyrings: { builtin: [testKeys().rsa.cert] },
    sigPolicy: 'kexec_sig_force',
    handshakeTimeoutMs: timeoutMs,
  });
  const bz = synthBzImage(payload(2000, 5));
  const kernelPath = join(dir, `uki-${mode}.efi`);
  writeFileSync(kernelPath, sign(parserPe(parserPe(bz))));
  const stop = new SharedArrayBuffer(4);
  const b = startLoaderWorker({ role: 'threadB', endpoint: openEndpoint(kernel), procRoot, stop, mode });
  const ready = await b.next();
  if (!('event' in ready) || ready.event !== 'ready') throw new Error(`ThreadB: ${JSON.stringify(ready)}`);
  const a = startLoaderWorker({
    role: 'threadA',
    endpoint: openEndpoint(kernel),
    kernelPath,
    args: { initrdFd: -1, cmdline: 'console=ttyS0', flags: KEXEC_FILE.NO_INITRAMFS },
  });
  const resultA = await a.next();
  Atomics.store(new Int32Array(stop), 0, 1);
  const resultB = await b.next();
  const exitA = await a.exited;
  const exitB = await b.exited;
  const leftover = kernel.objects.fds;
  const kimage = kernel.kimage();
  const dmesg = kernel.dmesg();
  kernel.shutdown();
  return { resultA, resultB, exitA, exitB, kimage, dmesg, bz, leftover, heldAfter: kernel.heldFds() };
};
