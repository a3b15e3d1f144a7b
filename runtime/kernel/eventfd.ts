/**
 * Real eventfd(2) file descriptors through koffi (libc), usable from any thread of the process: the
 * kernel model signals and waits on the same fds the loader's threads block on. Waiting is poll(2) with
 * a timeout (synchronously in a worker, or asynchronously on libuv's thread pool in the thread that
 * hosts the kernel), then a read(2) that consumes the counter.
 */
import { createRequire } from 'node:module';
import { E } from '../../bpf/abi/index.ts';

export class EventfdError extends Error {
  override readonly name = 'EventfdError';
  readonly errno: number;
  constructor(what: string, errno: number) {
    super(`${what}: errno ${errno}`);
    this.errno = errno;
  }
}

interface PollFd {
  fd: number;
  events: number;
  revents: number;
}
type AsyncFn = ((...args: unknown[]) => number) & {
  async(...args: unknown[]): void;
};
interface Libc {
  readonly errno: () => number;
  readonly eventfd: AsyncFn;
  readonly read: AsyncFn;
  readonly write: AsyncFn;
  readonly poll: AsyncFn;
  readonly dup: AsyncFn;
  readonly close: AsyncFn;
}

let libc: Libc | undefined;
const lib = (): Libc => {
  if (libc) return libc;
  const koffi = createRequire(import.meta.url)('koffi') as {
    load(p: string): { func(decl: string): AsyncFn };
    struct(name: string, def: Record<string, string>): unknown;
    errno(): number;
  };
  const c = koffi.load('libc.so.6');
  koffi.struct('kexec_pollfd', { fd: 'int', events: 'short', revents: 'short' });
  libc = {
    errno: () => koffi.errno(),
    eventfd: c.func('int eventfd(unsigned int initval, int flags)'),
    read: c.func('long read(int fd, _Out_ uint8_t *buf, unsigned long n)'),
    write: c.func('long write(int fd, const uint8_t *buf, unsigned long n)'),
    poll: c.func('int poll(_Inout_ kexec_pollfd *fds, unsigned long n, int timeout)'),
    dup: c.func('int dup(int fd)'),
    close: c.func('int close(int fd)'),
  };
  return libc;
};

const EFD_CLOEXEC = 0o2000000;
const POLLIN = 1;

/** eventfd(0, EFD_CLOEXEC): a blocking eventfd. */
export const eventfdCreate = (): number => {
  const fd = lib().eventfd(0, EFD_CLOEXEC);
  if (fd < 0) throw new EventfdError('eventfd', lib().errno());
  return fd;
};

/** Adds 1 to the counter (wakes a waiter). */
export const eventfdSignal = (fd: number): void => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(1n);
  if (lib().write(fd, b, 8) !== 8) throw new EventfdError(`write(eventfd ${fd})`, lib().errno());
};

const consume = (fd: number): void => {
  if (lib().read(fd, Buffer.alloc(8), 8) !== 8) throw new EventfdError(`read(eventfd ${fd})`, lib().errno());
};

/** Blocks this thread until the eventfd is signalled (true, counter consumed) or `timeoutMs` passes (false). */
export const eventfdWaitSync = (fd: number, timeoutMs: number): boolean => {
  const p: PollFd = { fd, events: POLLIN, revents: 0 };
  // A signal (a profiler's, a debugger's) interrupts poll with EINTR: wait again for what is left.
  const deadline = performance.now() + Math.max(0, timeoutMs);
  let r: number;
  for (;;) {
    r = lib().poll(p, 1, Math.max(0, Math.floor(deadline - performance.now())));
    if (r >= 0) break;
    const errno = lib().errno();
    if (errno !== E.EINTR) throw new EventfdError(`poll(eventfd ${fd})`, errno);
  }
  if (r === 0) return false;
  if ((p.revents & POLLIN) === 0) throw new EventfdError(`poll(eventfd ${fd}): revents 0x${p.revents.toString(16)}`, 0);
  consume(fd);
  return true;
};

/** The same wait without blocking this thread (poll runs on the thread pool). */
export const eventfdWait = (fd: number, timeoutMs: number): Promise<boolean> =>
  new Promise((resolve, reject) => {
    const deadline = performance.now() + Math.max(0, timeoutMs);
    const p: PollFd = { fd, events: POLLIN, revents: 0 };
    lib().poll.async(p, 1, Math.max(0, Math.floor(timeoutMs)), (err: unknown, r: number) => {
      if (err) return reject(err);
      if (r < 0) {
        const errno = lib().errno();
        if (errno === E.EINTR) return resolve(eventfdWait(fd, Math.max(0, deadline - performance.now())));
        return reject(new EventfdError(`poll(eventfd ${fd})`, errno));
      }
      if (r === 0) return resolve(false);
      if ((p.revents & POLLIN) === 0)
        return reject(new EventfdError(`poll(eventfd ${fd}): revents 0x${p.revents.toString(16)}`, 0));
      try {
        consume(fd);
        resolve(true);
      } catch (e) {
        reject(e);
      }
    });
  });

/** dup(2): the kernel keeps its own reference to a caller's eventfd (eventfd_ctx_fdget). */
export const dupFd = (fd: number): number => {
  const r = lib().dup(fd);
  if (r < 0) throw new EventfdError(`dup(${fd})`, lib().errno());
  return r;
};

export const closeRawFd = (fd: number): void => {
  if (lib().close(fd) < 0) throw new EventfdError(`close(${fd})`, lib().errno());
};

/** close(2) of any fd through libc (not Node's fs, which warns about fds it did not open): 0 or -errno. */
export const libcClose = (fd: number): number => (lib().close(fd) < 0 ? -lib().errno() : 0);
