/** A loader thread as seen from the hosting thread: its messages in order, and how it ended. */
import { Worker } from 'node:worker_threads';
import type { ThreadJob } from './protocol.ts';

/**
 * The thread's first module. In the bundled build bin/launch.mjs defines UKIBPF_THREADS_BUNDLE as the bundled
 * threads.ts, which runs as it is; from the sources, worker-boot.mjs registers tsx and imports threads.ts.
 */
const BUNDLED = process.env.UKIBPF_THREADS_BUNDLE;
const BOOT = BUNDLED ? new URL(BUNDLED) : new URL('./worker-boot.mjs', import.meta.url);
const ENTRY = new URL('./threads.ts', import.meta.url).href;

export class ThreadDied extends Error {
  override readonly name = 'ThreadDied';
}

export class LoaderThread<In, Out> {
  readonly worker: Worker;
  /** Resolves with the exit code once the thread is gone. */
  readonly exited: Promise<number>;
  /** Why the thread died (an uncaught error in it), if it did. */
  crash: Error | undefined;
  readonly #queued: Out[] = [];
  readonly #waiting: { resolve: (m: Out) => void; reject: (e: Error) => void }[] = [];
  #gone = false;

  constructor(job: ThreadJob) {
    this.worker = new Worker(BOOT, { workerData: { entry: ENTRY, job }, transferList: [job.endpoint.port] });
    this.worker.on('message', (m: Out) => {
      const w = this.#waiting.shift();
      if (w) w.resolve(m);
      else this.#queued.push(m);
    });
    this.worker.on('error', (e) => {
      this.crash = e;
    });
    this.exited = new Promise<number>((resolve) => {
      this.worker.on('exit', (code) => {
        this.#gone = true;
        for (const w of this.#waiting.splice(0)) w.reject(this.#death());
        resolve(code);
      });
    });
  }

  #death(): ThreadDied {
    return new ThreadDied(this.crash ? this.crash.message : 'the thread exited', { cause: this.crash });
  }

  get alive(): boolean {
    return !this.#gone;
  }

  send(m: In): void {
    if (!this.#gone) this.worker.postMessage(m);
  }

  /** The next message; rejects with ThreadDied once the thread is gone and nothing is queued. */
  next(): Promise<Out> {
    const m = this.#queued.shift();
    if (m !== undefined) return Promise.resolve(m);
    if (this.#gone) return Promise.reject(this.#death());
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }
}
