/**
 * File descriptors over real files. Callers open files themselves (the fds are the process's own, shared
 * by all threads) and pass the numbers; the kernel reads them as kernel_read_file_from_fd() does.
 * Kernel objects (bpf maps, programs, links) get real fds too — each holds an open /dev/null, the
 * model's anon inode — so they share the process's fd namespace and a leak shows in /proc/self/fd.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { E } from '../../bpf/abi/index.ts';
import { libcClose } from './eventfd.ts';

/** KEXEC_FILE_SIZE_MAX: min(SSIZE_MAX, SIZE_MAX) on 64-bit; the model caps it at 2 GiB (a Buffer's limit). */
export const KEXEC_FILE_SIZE_MAX = 2 ** 31 - 1;

export type ReadResult = { readonly bytes: Uint8Array } | { readonly errno: number };

const codeOf = (e: unknown): string | undefined =>
  e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;

/** FMODE_READ: the fd's access mode (from /proc/self/fdinfo) is not O_WRONLY; false when it is not open. */
const readable = (fd: number): boolean => {
  let info: string;
  try {
    info = readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1');
  } catch {
    return false;
  }
  const flags = /^flags:\s+([0-7]+)/m.exec(info)?.[1];
  return flags !== undefined && (Number.parseInt(flags, 8) & 3) !== 1;
};

/** kernel_read_file_from_fd(): -EBADF (not an open, readable fd), -EINVAL (not a regular file, empty), -EFBIG. */
export const readKernelFile = (fd: number, maxSize = KEXEC_FILE_SIZE_MAX): ReadResult => {
  if (!Number.isInteger(fd) || fd < 0 || !readable(fd)) return { errno: -E.EBADF };
  let size: number;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { errno: -E.EINVAL };
    size = st.size;
  } catch (e) {
    if (codeOf(e) === 'EBADF') return { errno: -E.EBADF };
    throw e;
  }
  if (size <= 0) return { errno: -E.EINVAL };
  if (size > maxSize) return { errno: -E.EFBIG };
  const bytes = new Uint8Array(size);
  try {
    let done = 0;
    while (done < size) {
      const n = readSync(fd, bytes, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return { bytes: done === size ? bytes : bytes.subarray(0, done) };
  } catch (e) {
    // a write-only fd: the kernel checks FMODE_READ first and answers -EBADF
    if (codeOf(e) === 'EBADF') return { errno: -E.EBADF };
    throw e;
  }
};

/** The kernel objects behind fds. */
export class ObjectTable<T> {
  readonly #objects = new Map<number, T>();

  /** Installs `obj` under a fresh real fd. */
  install(obj: T): number {
    const fd = openSync('/dev/null', 'r');
    this.#objects.set(fd, obj);
    return fd;
  }

  get(fd: number): T | undefined {
    return this.#objects.get(fd);
  }

  /** close(2) of an object fd: true when it was one. */
  release(fd: number): boolean {
    if (!this.#objects.delete(fd)) return false;
    closeSync(fd);
    return true;
  }

  get fds(): number[] {
    return [...this.#objects.keys()];
  }

  /** Every object fd closed (the kernel going away). */
  releaseAll(): void {
    for (const fd of this.fds) this.release(fd);
  }
}

/**
 * close(2) of any fd: kernel objects are dropped, other fds closed through libc; -EBADF when not open.
 * Close fds that Node's fs opened with fs.closeSync instead: Node tracks those and warns otherwise.
 */
export const closeAnyFd = (table: ObjectTable<unknown>, fd: number): number => {
  if (table.release(fd)) return 0;
  if (!Number.isInteger(fd) || fd < 0) return -E.EBADF;
  return libcClose(fd);
};
