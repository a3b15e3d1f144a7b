/**
 * The daemon: one simulated kernel and its loader threads for the whole life of the process, served on
 * a UNIX socket. Requests run one at a time in arrival order (kexec_file_load holds the kexec lock):
 * up to `maxQueue` wait their turn, one more is answered EBUSY at once. A client that goes away
 * mid-request costs nothing: its load completes and the answer is dropped. A loader thread that dies
 * fails the request it was serving (an error answer naming the crash) and is replaced before the next.
 */
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { E } from '../../bpf/abi/index.ts';
import { ExitCode } from '../cli/exit.ts';
import { exitCodeOf, kimageSummary, strerror } from '../kexec-bpf/outcome.ts';
import { LoaderSession, type SessionOptions } from '../kexec-bpf/session.ts';
import { MAX_LINE, type ProtocolError, parseRequest, type Request } from './protocol.ts';

export interface DaemonOptions extends SessionOptions {
  readonly socket: string;
  /** Requests waiting behind the running one before EBUSY (default 64). */
  readonly maxQueue?: number;
}

type Answer = Record<string, unknown>;

const failure = (id: unknown, errno: number, error: string, exitCode: number, more: Answer = {}): Answer => ({
  id,
  ok: false,
  errno: Math.abs(errno),
  error,
  exitCode,
  ...more,
});

export class Daemon {
  readonly #session: LoaderSession;
  readonly #server: Server;
  readonly #socket: string;
  readonly #maxQueue: number;
  readonly #clients = new Set<Socket>();
  /** Requests not yet answered (the answer written), including queued ones. */
  readonly #inflight = new Set<Promise<void>>();
  #chain: Promise<void> = Promise.resolve();
  #pending = 0;
  #loads = 0;
  #stopping = false;

  private constructor(session: LoaderSession, o: DaemonOptions) {
    this.#session = session;
    this.#socket = o.socket;
    this.#maxQueue = o.maxQueue ?? 64;
    this.#server = createServer((c) => this.#serve(c));
  }

  static async start(o: DaemonOptions): Promise<Daemon> {
    const session = await LoaderSession.open(o);
    const d = new Daemon(session, o);
    try {
      await new Promise<void>((resolve, reject) => {
        d.#server.once('error', reject);
        d.#server.listen(o.socket, () => resolve());
      });
    } catch (e) {
      await session.close();
      throw e;
    }
    return d;
  }

  #serve(c: Socket): void {
    this.#clients.add(c);
    let buf = '';
    c.setEncoding('utf8');
    const send = (a: Answer): void => {
      if (!c.destroyed && c.writable) c.write(`${JSON.stringify(a)}\n`);
    };
    c.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_LINE && !buf.includes('\n')) {
        send(failure(null, E.E2BIG, `request longer than ${MAX_LINE} bytes`, ExitCode.USAGE));
        c.end();
        return;
      }
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line === '') continue;
        const answered = this.#handle(line).then(send);
        this.#inflight.add(answered);
        answered.finally(() => this.#inflight.delete(answered));
      }
    });
    c.on('error', () => c.destroy());
    c.on('close', () => this.#clients.delete(c));
  }

  async #handle(line: string): Promise<Answer> {
    let r: Request;
    try {
      r = parseRequest(line);
    } catch (e) {
      const p = e as ProtocolError;
      return failure(p.id, E.EINVAL, p.message, ExitCode.USAGE);
    }
    if (r.op === 'status') return this.#status(r.id);
    if (this.#stopping) return failure(r.id, E.ECANCELED, 'the daemon is stopping', ExitCode.INTERNAL);
    if (this.#pending > this.#maxQueue) return failure(r.id, E.EBUSY, strerror(E.EBUSY), ExitCode.INTERNAL);
    this.#pending++;
    const run = this.#chain.then(() => this.#run(r));
    this.#chain = run.then(
      () => undefined,
      () => undefined,
    );
    try {
      return await run;
    } finally {
      this.#pending--;
    }
  }

  async #run(r: Exclude<Request, { op: 'status' }>): Promise<Answer> {
    if (r.op === 'unload') {
      const errno = await this.#session.unload(r.panic === true);
      return errno === 0 ? { id: r.id, ok: true } : failure(r.id, errno, strerror(errno), ExitCode.INTERNAL);
    }
    const out = await this.#session.load({
      kernelPath: r.kernel,
      initrdPath: r.initrd,
      cmdline: r.cmdline,
      panic: r.panic === true,
      addons: r.addons ?? [],
    });
    this.#loads++;
    // A dead loader thread fails this request; the next one gets a fresh pair of threads.
    if (out.loaderCrash !== undefined) await this.#session.restartLoader();
    const code = exitCodeOf(out);
    const stages = out.stages.map((s) => ({ ...s, log: s.step === 'attached' ? undefined : s.log }));
    if (code === ExitCode.OK && out.kimage) return { id: r.id, ok: true, stages, kimage: kimageSummary(out.kimage) };
    if (out.openFailed)
      return failure(r.id, E.ENOENT, `cannot open ${out.openFailed.path}: ${out.openFailed.code}`, code);
    const error = out.loaderCrash ? `the loader thread died: ${out.loaderCrash} (restarted)` : strerror(out.errno);
    return failure(r.id, out.errno === 0 ? E.EIO : out.errno, error, code, { stages });
  }

  #status(id: unknown): Answer {
    const slot = (s: 'default' | 'crash') => {
      const k = this.#session.kernel.kimage(s);
      return k ? kimageSummary(k) : null;
    };
    return {
      id,
      ok: true,
      default: slot('default'),
      crash: slot('crash'),
      busy: this.#pending > 0,
      queued: Math.max(0, this.#pending - 1),
      loads: this.#loads,
      loader: this.#session.loaderAlive ? 'running' : 'dead',
      loaderRestarts: this.#session.restarts,
      rss: process.memoryUsage.rss(),
    };
  }

  /** Graceful stop: refuse new work, let the queued requests finish, close the kernel, remove the socket. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    while (this.#inflight.size > 0) await Promise.all(this.#inflight);
    for (const c of this.#clients) c.end();
    await closed;
    await this.#session.close();
    rmSync(this.#socket, { force: true });
  }
}
