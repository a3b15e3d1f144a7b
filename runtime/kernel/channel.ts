/**
 * The syscall channel: threads call into one Kernel through a MessagePort. The caller posts a request
 * and blocks in Atomics.wait on a shared flag; the kernel's thread answers on the port, then sets the
 * flag; the caller takes the answer with receiveMessageOnPort. So a worker's syscalls are synchronous,
 * as real ones are, while the kernel's thread stays free (kexec_file_load waits for the loader without
 * blocking the bpf() calls the loader makes meanwhile).
 *
 *   const ep = openEndpoint(kernel);                               // kernel's thread
 *   new Worker(file, { workerData: ep, transferList: [ep.port] }); // hand it over
 *   const sys = new SyscallClient(workerData);                    // in the worker
 *   sys.kexecFileLoad({ kernelFd, initrdFd: -1, cmdline: 'quiet', flags: KEXEC_FILE.NO_INITRAMFS });
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import type { BpfAttr, BpfReply } from './bpf-syscall.ts';
import type { Kernel, KimageSlot } from './kernel.ts';
import type { Kimage } from './kimage.ts';
import type { KexecFileLoadArgs, LoaderRegistration } from './uapi.ts';

/** What a thread needs to call the kernel: transfer `port` in the Worker's transferList. */
export interface SyscallEndpoint {
  readonly port: MessagePort;
  /** Int32Array(1) over it: 0 while a call is pending, 1 when answered. */
  readonly signal: SharedArrayBuffer;
}

type Request =
  | { readonly id: number; readonly op: 'kexec_file_load'; readonly args: KexecFileLoadArgs }
  | { readonly id: number; readonly op: 'bpf'; readonly args: BpfAttr }
  | { readonly id: number; readonly op: 'close'; readonly args: number }
  | { readonly id: number; readonly op: 'register_loader'; readonly args: LoaderRegistration }
  | { readonly id: number; readonly op: 'kimage'; readonly args: KimageSlot }
  | { readonly id: number; readonly op: 'dmesg'; readonly args: null };

interface Reply {
  readonly id: number;
  readonly result?: unknown;
  /** A host exception inside the kernel (a bug, never an errno). */
  readonly error?: string;
}

const dispatch = async (kernel: Kernel, r: Request): Promise<unknown> => {
  switch (r.op) {
    case 'kexec_file_load':
      return kernel.kexecFileLoad(r.args);
    case 'bpf':
      return kernel.bpf(r.args);
    case 'close':
      return kernel.close(r.args);
    case 'register_loader':
      return kernel.registerLoader(r.args);
    case 'kimage':
      return kernel.kimage(r.args);
    case 'dmesg':
      return kernel.dmesg();
  }
};

/**
 * A new endpoint served by `kernel` until either side closes it or the kernel shuts down. `kernel` may be
 * a kernel still booting: a thread can then start (and load its modules) meanwhile; its calls are
 * answered once the kernel is up, and the endpoint closes if the kernel never comes up.
 */
export const openEndpoint = (kernel: Kernel | Promise<Kernel>): SyscallEndpoint => {
  const { port1, port2 } = new MessageChannel();
  const signal = new SharedArrayBuffer(4);
  const flag = new Int32Array(signal);
  const fault = (r: Request, e: unknown): void =>
    answer({ id: r.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  const serve = (k: Kernel, r: Request): void => {
    dispatch(k, r).then(
      (result) => answer({ id: r.id, result }),
      (e: unknown) => fault(r, e),
    );
  };
  let ready: Kernel | undefined;
  if (kernel instanceof Promise) {
    kernel.then(
      (k) => {
        ready = k;
        k.onShutdown(() => port1.close());
      },
      () => port1.close(),
    );
  } else {
    ready = kernel;
    kernel.onShutdown(() => port1.close());
  }
  port1.on('message', (r: Request) => {
    if (ready !== undefined) serve(ready, r);
    else (kernel as Promise<Kernel>).then((k) => serve(k, r)).catch((e: unknown) => fault(r, e));
  });
  const answer = (reply: Reply): void => {
    port1.postMessage(reply);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  };
  port1.on('close', () => port1.close());
  return { port: port2, signal };
};

export class SyscallError extends Error {
  override readonly name = 'SyscallError';
}

/** The calling side (any thread but the kernel's own). Every method blocks until the kernel answers. */
export class SyscallClient {
  readonly #port: MessagePort;
  readonly #flag: Int32Array;
  #next = 1;

  constructor(ep: SyscallEndpoint) {
    this.#port = ep.port;
    this.#flag = new Int32Array(ep.signal);
  }

  #call(op: Request['op'], args: unknown): unknown {
    const id = this.#next++;
    Atomics.store(this.#flag, 0, 0);
    this.#port.postMessage({ id, op, args });
    for (;;) {
      Atomics.wait(this.#flag, 0, 0);
      const m = receiveMessageOnPort(this.#port);
      if (m === undefined) continue;
      const reply = m.message as Reply;
      if (reply.id !== id) throw new SyscallError(`syscall channel: answer ${reply.id} for call ${id}`);
      if (reply.error !== undefined) throw new SyscallError(`kernel fault in ${op}: ${reply.error}`);
      return reply.result;
    }
  }

  kexecFileLoad(args: KexecFileLoadArgs): number {
    return this.#call('kexec_file_load', args) as number;
  }

  bpf(attr: BpfAttr): BpfReply {
    return this.#call('bpf', attr) as BpfReply;
  }

  close(fd: number): number {
    return this.#call('close', fd) as number;
  }

  registerLoader(r: LoaderRegistration): number {
    return this.#call('register_loader', r) as number;
  }

  kimage(slot: KimageSlot = 'default'): Kimage | undefined {
    return this.#call('kimage', slot) as Kimage | undefined;
  }

  dmesg(): string[] {
    return this.#call('dmesg', null) as string[];
  }

  /** Ends this thread's channel. */
  disconnect(): void {
    this.#port.close();
  }
}
