/** Syscall results: 0 / a non-negative value, or a negative errno (bpf/abi's table). */
import { errnoName as abiErrnoName, E, type ErrnoName } from '../../bpf/abi/index.ts';

/** -errno for a verifier / errno name ('EINVAL'); -EINVAL for a name the tables do not know. */
export const negErrno = (name: string): number => {
  if (name in E) return -E[name as ErrnoName];
  return -E.EINVAL;
};

/** "ENOKEY" for -126; "E<n>" when unknown. */
export const errnoText = (value: number): string => {
  const name = abiErrnoName(value);
  return name ?? `E${Math.abs(value)}`;
};
