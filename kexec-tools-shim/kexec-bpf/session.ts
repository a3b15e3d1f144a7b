/**
 * One simulated kernel and its two loader threads (threads.ts). The hosting thread runs the kernel (it
 * never blocks); ThreadB is started once and re-armed for every load; ThreadA performs each
 * kexec_file_load. Used once by the `kexec-bpf` CLI and for its whole life by `kexec-bpfd`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  closeRawFd,
  KEXEC_FILE,
  Kernel,
  type Kimage,
  type KimageSlot,
  openEndpoint,
} from '../../runtime/kernel/index.ts';
import { LoaderThread } from './mailbox.ts';
import type { FromThreadA, FromThreadB, StageLog, ToThreadA, ToThreadB } from './protocol.ts';

export interface SessionOptions {
  /** Certificates for the builtin trusted keyring (`--keyring`). */
  readonly keyrings: readonly string[];
  /** CONFIG_KEXEC_SIG_FORCE (`--sig-enforce`); otherwise CONFIG_KEXEC_SIG (checked, not enforced). */
  readonly sigEnforce: boolean;
  /** How long the kernel waits for the loader at each stage. */
  readonly timeoutMs: number;
  /** Fault injection for tests (`KEXEC_BPF_FAULT`). */
  readonly fault?: string | undefined;
}

export interface LoadRequest {
  readonly kernelPath: string;
  readonly initrdPath?: string | undefined;
  readonly cmdline?: string | undefined;
  readonly panic: boolean;
  readonly addons: readonly string[];
  /** Verifier log level for PROG_LOAD (1 is enough to see why a program was refused). */
  readonly logLevel?: number;
}

export interface LoadOutcome {
  /** kexec_file_load's answer: 0 or -errno. */
  readonly errno: number;
  readonly stages: readonly StageLog[];
  readonly kimage: Kimage | undefined;
  /** A file the loader could not open (kernel, initrd or addon). */
  readonly openFailed?: { readonly path: string; readonly code: string };
  /** The loader thread died during the load. */
  readonly loaderCrash?: string;
}

export class LoaderSession {
  readonly kernel: Kernel;
  readonly #procRoot: string;
  readonly #a: LoaderThread<ToThreadA, FromThreadA>;
  readonly #b: LoaderThread<ToThreadB, FromThreadB>;
  readonly #eventfds: readonly number[];
  #closed = false;
  /** ThreadB reported that it closed its eventfds. */
  #bStopped = false;

  private constructor(
    kernel: Kernel,
    procRoot: string,
    a: LoaderThread<ToThreadA, FromThreadA>,
    b: LoaderThread<ToThreadB, FromThreadB>,
    eventfds: readonly number[],
  ) {
    this.kernel = kernel;
    this.#procRoot = procRoot;
    this.#a = a;
    this.#b = b;
    this.#eventfds = eventfds;
  }

  /** Boots the kernel (loading the keyrings) and starts both threads. */
  static async open(o: SessionOptions): Promise<LoaderSession> {
    const procRoot = mkdtempSync(join(tmpdir(), 'kexec-bpf-'));
    let kernel: Kernel | undefined;
    try {
      kernel = await Kernel.create({
        procRoot,
        keyrings: { builtin: [...o.keyrings] },
        sigPolicy: o.sigEnforce ? 'kexec_sig_force' : 'kexec_sig',
        handshakeTimeoutMs: o.timeoutMs,
      });
      const b = new LoaderThread<ToThreadB, FromThreadB>({
        role: 'threadB',
        endpoint: openEndpoint(kernel),
        procRoot,
        fault: o.fault,
      });
      const ready = await b.next();
      if (ready.ev !== 'ready') throw new Error(`ThreadB: unexpected ${ready.ev}`);
      const a = new LoaderThread<ToThreadA, FromThreadA>({ role: 'threadA', endpoint: openEndpoint(kernel) });
      return new LoaderSession(kernel, procRoot, a, b, [ready.eventA, ready.eventB]);
    } catch (e) {
      kernel?.shutdown();
      rmSync(procRoot, { recursive: true, force: true });
      throw e;
    }
  }

  /** The directory that plays /proc for this kernel (removed by close()). */
  get procRoot(): string {
    return this.#procRoot;
  }

  get loaderAlive(): boolean {
    return this.#b.alive && this.#a.alive;
  }

  /** kexec_file_load with the loader armed for this load's addons; ThreadB's stages come back with it. */
  async load(r: LoadRequest): Promise<LoadOutcome> {
    const slot: KimageSlot = r.panic ? 'crash' : 'default';
    const fail = (more: Partial<LoadOutcome>): LoadOutcome => ({
      errno: 0,
      stages: [],
      kimage: this.kernel.kimage(slot),
      ...more,
    });
    if (!this.loaderAlive) return fail({ loaderCrash: this.#b.crash?.message ?? 'the loader thread is gone' });
    let answer: FromThreadA | undefined;
    try {
      this.#b.send({
        cmd: 'arm',
        addons: r.addons.map((path) => ({ name: basename(path), path })),
        logLevel: r.logLevel ?? 1,
      });
      const armed = this.#fromB(await this.#b.next(), 'armed');
      if (armed.failed) return fail({ openFailed: armed.failed });
      if (armed.errno !== 0) return fail({ errno: armed.errno });
      const flags = (r.panic ? KEXEC_FILE.ON_CRASH : 0) | (r.initrdPath === undefined ? KEXEC_FILE.NO_INITRAMFS : 0);
      this.#a.send({
        cmd: 'load',
        job: { kernelPath: r.kernelPath, initrdPath: r.initrdPath, cmdline: r.cmdline, flags },
      });
      answer = await this.#a.next();
      if (answer.ev === 'open-failed') return fail({ openFailed: { path: answer.path, code: answer.code } });
      this.#b.send({ cmd: 'release' });
      const released = this.#fromB(await this.#b.next(), 'released');
      const errno = answer.errno;
      return { errno, stages: released.stages, kimage: errno === 0 ? this.kernel.kimage(slot) : undefined };
    } catch (e) {
      // a dead loader thread: the kernel still answers ThreadA (it times out waiting for eventfd B)
      if (answer === undefined && this.#a.alive) answer = await this.#a.next().catch(() => undefined);
      await Promise.race([this.#b.exited, delay(1000)]);
      const why = this.#b.crash?.message ?? (e instanceof Error ? e.message : String(e));
      return fail({ errno: answer?.ev === 'loaded' ? answer.errno : 0, loaderCrash: why });
    }
  }

  /** ThreadB's next message, which must be `ev`; 'stopped' here means the thread is going away. */
  #fromB<K extends FromThreadB['ev']>(m: FromThreadB, ev: K): Extract<FromThreadB, { ev: K }> {
    if (m.ev === 'stopped') this.#bStopped = true;
    if (m.ev !== ev) throw new Error(`the loader thread stopped (${m.ev} instead of ${ev})`);
    return m as Extract<FromThreadB, { ev: K }>;
  }

  /** kexec_file_load(KEXEC_FILE_UNLOAD), from the hosting thread (no handshake is involved). */
  async unload(panic: boolean): Promise<number> {
    return this.kernel.kexecFileLoad({
      kernelFd: -1,
      initrdFd: -1,
      flags: KEXEC_FILE.UNLOAD | (panic ? KEXEC_FILE.ON_CRASH : 0),
    });
  }

  /** Stops both threads, releases every fd the kernel holds and removes the procfs directory. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#b.send({ cmd: 'stop' });
    while (!this.#bStopped) {
      const m = await this.#b.next().catch(() => undefined);
      if (m === undefined) break;
      if (m.ev === 'stopped') this.#bStopped = true;
    }
    this.#a.send({ cmd: 'stop' });
    await Promise.race([this.#a.exited, delay(2000)]);
    if (this.#a.alive) await this.#a.worker.terminate();
    await Promise.race([this.#b.exited, delay(2000)]);
    if (this.#b.alive) await this.#b.worker.terminate();
    // a thread that never got to its cleanup leaves its eventfds to us (fds are per process)
    if (!this.#bStopped) for (const fd of this.#eventfds) closeRawFd(fd);
    this.kernel.shutdown();
    rmSync(this.#procRoot, { recursive: true, force: true });
  }
}

const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
  });
