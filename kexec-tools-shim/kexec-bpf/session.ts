/**
 * One simulated kernel and its two loader threads (thread-a.ts, thread-b.ts). The hosting thread runs the kernel (it
 * never blocks); ThreadB is started once and re-armed for every load; ThreadA performs each
 * kexec_file_load. Used once by the `kexec-bpf` CLI and for its whole life by `kexec-bpfd`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  type Arch,
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
  /** The simulated machine's architecture (default x86_64): which image probe the kernel runs. */
  readonly arch?: Arch | undefined;
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

/** The two loader threads and the eventfds ThreadB made (closed by ThreadB, or by us when it died). */
interface Threads {
  readonly a: LoaderThread<ToThreadA, FromThreadA>;
  readonly b: LoaderThread<ToThreadB, FromThreadB>;
  readonly eventfds: readonly number[];
  /** ThreadB reported that it closed its eventfds. */
  bStopped: boolean;
}

/**
 * `KEXEC_BPF_FAULT` values (tests): `crash` — every ThreadB dies once it has read the section;
 * `crash-once` — only the session's first ThreadB does (a restarted one works);
 * `slow:MS` — ThreadB waits MS milliseconds before signalling eventfd B (a long load).
 */
const faultFor = (fault: string | undefined, generation: number): string | undefined =>
  fault === 'crash-once' ? (generation === 0 ? 'crash' : undefined) : fault;

export class LoaderSession {
  readonly kernel: Kernel;
  readonly #procRoot: string;
  readonly #fault: string | undefined;
  #threads: Threads;
  /** How many times the loader threads were started again after one died. */
  #restarts = 0;
  #closed = false;

  private constructor(kernel: Kernel, procRoot: string, threads: Threads, fault: string | undefined) {
    this.kernel = kernel;
    this.#procRoot = procRoot;
    this.#threads = threads;
    this.#fault = fault;
  }

  /**
   * Starts ThreadB (which makes the eventfds), then ThreadA, both talking to `kernel` (which may still be
   * booting: the threads load their modules meanwhile and make no call before they are armed).
   */
  static async #startThreads(
    kernel: Kernel | Promise<Kernel>,
    procRoot: string,
    fault: string | undefined,
  ): Promise<Threads> {
    const b = new LoaderThread<ToThreadB, FromThreadB>({
      role: 'threadB',
      endpoint: openEndpoint(kernel),
      procRoot,
      fault,
    });
    // ThreadA starts while ThreadB boots (each thread loads its modules: the slow part of a start)
    const a = new LoaderThread<ToThreadA, FromThreadA>({ role: 'threadA', endpoint: openEndpoint(kernel) });
    const ready = await b.next().catch(async (e: unknown) => {
      await a.worker.terminate();
      throw e;
    });
    if (ready.ev !== 'ready') {
      await a.worker.terminate();
      throw new Error(`ThreadB: unexpected ${ready.ev}`);
    }
    return { a, b, eventfds: [ready.eventA, ready.eventB], bStopped: false };
  }

  /**
   * Boots the kernel (loading the keyrings) while both threads start. When the kernel cannot boot (a bad
   * keyring) the threads are ended and their eventfds closed before its error is thrown.
   */
  static async open(o: SessionOptions): Promise<LoaderSession> {
    const procRoot = mkdtempSync(join(tmpdir(), 'kexec-bpf-'));
    const booting = Kernel.create({
      procRoot,
      keyrings: { builtin: [...o.keyrings] },
      sigPolicy: o.sigEnforce ? 'kexec_sig_force' : 'kexec_sig',
      handshakeTimeoutMs: o.timeoutMs,
      ...(o.arch === undefined ? {} : { arch: o.arch }),
    });
    const [kernel, threads] = await Promise.allSettled([
      booting,
      LoaderSession.#startThreads(booting, procRoot, faultFor(o.fault, 0)),
    ]);
    if (kernel.status === 'fulfilled' && threads.status === 'fulfilled')
      return new LoaderSession(kernel.value, procRoot, threads.value, o.fault);
    if (threads.status === 'fulfilled') {
      // no kernel to answer them: the threads are ended, not asked to stop
      const t = threads.value;
      await Promise.all([t.a.worker.terminate(), t.b.worker.terminate()]);
      for (const fd of t.eventfds) closeRawFd(fd);
    }
    if (kernel.status === 'fulfilled') kernel.value.shutdown();
    rmSync(procRoot, { recursive: true, force: true });
    throw kernel.status === 'rejected' ? kernel.reason : (threads as PromiseRejectedResult).reason;
  }

  /** How many times restartLoader() replaced dead loader threads. */
  get restarts(): number {
    return this.#restarts;
  }

  /**
   * Replaces the loader threads after one died (the daemon's recovery): stops what is left of them,
   * closes the eventfds a dead ThreadB could not, and starts a fresh pair on the same kernel.
   */
  async restartLoader(): Promise<void> {
    if (this.#closed) throw new Error('the session is closed');
    await this.#stopThreads();
    this.#restarts++;
    this.#threads = await LoaderSession.#startThreads(
      this.kernel,
      this.#procRoot,
      faultFor(this.#fault, this.#restarts),
    );
  }

  /** The directory that plays /proc for this kernel (removed by close()). */
  get procRoot(): string {
    return this.#procRoot;
  }

  get loaderAlive(): boolean {
    return this.#threads.b.alive && this.#threads.a.alive;
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
    const { a, b } = this.#threads;
    if (!this.loaderAlive)
      return fail({ loaderCrash: b.crash?.message ?? a.crash?.message ?? 'the loader thread is gone' });
    let answer: FromThreadA | undefined;
    try {
      b.send({
        cmd: 'arm',
        addons: r.addons.map((path) => ({ name: basename(path), path })),
        logLevel: r.logLevel ?? 1,
      });
      const armed = this.#fromB(await b.next(), 'armed');
      if (armed.failed) return fail({ openFailed: armed.failed });
      if (armed.errno !== 0) return fail({ errno: armed.errno });
      const flags = (r.panic ? KEXEC_FILE.ON_CRASH : 0) | (r.initrdPath === undefined ? KEXEC_FILE.NO_INITRAMFS : 0);
      a.send({
        cmd: 'load',
        job: { kernelPath: r.kernelPath, initrdPath: r.initrdPath, cmdline: r.cmdline, flags },
      });
      answer = await a.next();
      if (answer.ev === 'open-failed') return fail({ openFailed: { path: answer.path, code: answer.code } });
      b.send({ cmd: 'release' });
      const released = this.#fromB(await b.next(), 'released');
      const errno = answer.errno;
      return { errno, stages: released.stages, kimage: errno === 0 ? this.kernel.kimage(slot) : undefined };
    } catch (e) {
      // a dead loader thread: the kernel still answers ThreadA (it times out waiting for eventfd B)
      if (answer === undefined && a.alive) answer = await a.next().catch(() => undefined);
      await Promise.race([b.exited, delay(1000)]);
      const why = b.crash?.message ?? (e instanceof Error ? e.message : String(e));
      return fail({ errno: answer?.ev === 'loaded' ? answer.errno : 0, loaderCrash: why });
    }
  }

  /** ThreadB's next message, which must be `ev`; 'stopped' here means the thread is going away. */
  #fromB<K extends FromThreadB['ev']>(m: FromThreadB, ev: K): Extract<FromThreadB, { ev: K }> {
    if (m.ev === 'stopped') this.#threads.bStopped = true;
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

  /** Stops both threads (terminating one that does not answer) and closes eventfds ThreadB left open. */
  async #stopThreads(): Promise<void> {
    const t = this.#threads;
    t.b.send({ cmd: 'stop' });
    while (!t.bStopped) {
      const m = await t.b.next().catch(() => undefined);
      if (m === undefined) break;
      if (m.ev === 'stopped') t.bStopped = true;
    }
    t.a.send({ cmd: 'stop' });
    await Promise.race([t.a.exited, delay(2000)]);
    if (t.a.alive) await t.a.worker.terminate();
    await Promise.race([t.b.exited, delay(2000)]);
    if (t.b.alive) await t.b.worker.terminate();
    // a thread that never got to its cleanup leaves its eventfds to us (fds are per process)
    if (!t.bStopped) for (const fd of t.eventfds) closeRawFd(fd);
    t.bStopped = true;
  }

  /** Stops both threads, releases every fd the kernel holds and removes the procfs directory. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#stopThreads();
    this.kernel.shutdown();
    rmSync(this.#procRoot, { recursive: true, force: true });
  }
}

const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
  });
