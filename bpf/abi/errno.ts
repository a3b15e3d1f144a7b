/**
 * Linux errno values (include/uapi/asm-generic/errno-base.h and errno.h; the same numbers on x86 and
 * arm64) that the simulated kernel and the helper models return, with glibc's strerror() text.
 * ENOTSUPP (524) is kernel-internal and has no userspace message.
 */
export const ERRNO = {
  EPERM: { value: 1, message: 'Operation not permitted' },
  ENOENT: { value: 2, message: 'No such file or directory' },
  ESRCH: { value: 3, message: 'No such process' },
  EINTR: { value: 4, message: 'Interrupted system call' },
  EIO: { value: 5, message: 'Input/output error' },
  ENXIO: { value: 6, message: 'No such device or address' },
  E2BIG: { value: 7, message: 'Argument list too long' },
  ENOEXEC: { value: 8, message: 'Exec format error' },
  EBADF: { value: 9, message: 'Bad file descriptor' },
  EAGAIN: { value: 11, message: 'Resource temporarily unavailable' },
  ENOMEM: { value: 12, message: 'Cannot allocate memory' },
  EACCES: { value: 13, message: 'Permission denied' },
  EFAULT: { value: 14, message: 'Bad address' },
  EBUSY: { value: 16, message: 'Device or resource busy' },
  EEXIST: { value: 17, message: 'File exists' },
  ENOTDIR: { value: 20, message: 'Not a directory' },
  EISDIR: { value: 21, message: 'Is a directory' },
  EINVAL: { value: 22, message: 'Invalid argument' },
  EMFILE: { value: 24, message: 'Too many open files' },
  EFBIG: { value: 27, message: 'File too large' },
  ENOSPC: { value: 28, message: 'No space left on device' },
  ESPIPE: { value: 29, message: 'Illegal seek' },
  EROFS: { value: 30, message: 'Read-only file system' },
  ERANGE: { value: 34, message: 'Numerical result out of range' },
  ENAMETOOLONG: { value: 36, message: 'File name too long' },
  ENOSYS: { value: 38, message: 'Function not implemented' },
  ELOOP: { value: 40, message: 'Too many levels of symbolic links' },
  ENODATA: { value: 61, message: 'No data available' },
  ENOPKG: { value: 65, message: 'Package not installed' },
  EBADMSG: { value: 74, message: 'Bad message' },
  ELIBBAD: { value: 80, message: 'Accessing a corrupted shared library' },
  EOVERFLOW: { value: 75, message: 'Value too large for defined data type' },
  EMSGSIZE: { value: 90, message: 'Message too long' },
  EOPNOTSUPP: { value: 95, message: 'Operation not supported' },
  ETIMEDOUT: { value: 110, message: 'Connection timed out' },
  ECANCELED: { value: 125, message: 'Operation canceled' },
  ENOKEY: { value: 126, message: 'Required key not available' },
  EKEYEXPIRED: { value: 127, message: 'Key has expired' },
  EKEYREVOKED: { value: 128, message: 'Key has been revoked' },
  EKEYREJECTED: { value: 129, message: 'Key was rejected by service' },
  ENOTSUPP: { value: 524, message: 'Unknown error 524' },
} as const;

export type ErrnoName = keyof typeof ERRNO;

/** `E.EINVAL === 22`. */
export const E = Object.freeze(Object.fromEntries(Object.entries(ERRNO).map(([n, e]) => [n, e.value]))) as Readonly<
  Record<ErrnoName, number>
>;

const BY_VALUE: ReadonlyMap<number, ErrnoName> = new Map(
  Object.entries(ERRNO).map(([n, e]) => [e.value, n as ErrnoName]),
);

/** Name of an errno value, negative (helper return) or positive; undefined if not in the table. */
export const errnoName = (value: number): ErrnoName | undefined => BY_VALUE.get(Math.abs(value));

/** `-EINVAL (Invalid argument)` style text for a negative helper return; `E<n>` for unknown ones. */
export const describeErrno = (value: number): string => {
  const name = errnoName(value);
  const sign = value < 0 ? '-' : '';
  return name === undefined ? `${sign}E${Math.abs(value)}` : `${sign}${name} (${ERRNO[name].message})`;
};
