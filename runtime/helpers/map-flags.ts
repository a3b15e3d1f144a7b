/**
 * The map flags (their one definition is bpf/abi) and the kernel-internal sizes the models need.
 */
export {
  BPF_ANY,
  BPF_EXIST,
  BPF_F_LOCK,
  BPF_F_NO_PREALLOC,
  BPF_F_RDONLY_PROG,
  BPF_F_WRONLY_PROG,
  BPF_NOEXIST,
} from '../../bpf/abi/index.ts';

/** KMALLOC_MAX_SIZE on x86-64 and arm64 with 4 KiB pages (1 << (MAX_PAGE_ORDER + PAGE_SHIFT)). */
export const KMALLOC_MAX_SIZE = 1 << 22;

export const PAGE_SIZE = 4096;

export const roundUp8 = (n: number): number => Math.ceil(n / 8) * 8;
