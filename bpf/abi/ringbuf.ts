/**
 * BPF ring buffers: the uapi constants (include/uapi/linux/bpf.h, Linux 6.18) and this ABI's
 * conventions for the two ring buffers a parser program declares.
 */
import { layoutStruct } from './struct-layout.ts';

/** Record header: u32 len (with the two flag bits) + u32 page offset. */
export const BPF_RINGBUF_HDR_SZ = 8;
export const BPF_RINGBUF_BUSY_BIT = 2 ** 31;
export const BPF_RINGBUF_DISCARD_BIT = 2 ** 30;

/** bpf_ringbuf_output/submit/discard flags */
export const BPF_RB_NO_WAKEUP = 1;
export const BPF_RB_FORCE_WAKEUP = 2;
/** bpf_ringbuf_query selectors (6.18; BPF_RB_OVERWRITE_POS = 4 came in 6.19) */
export const BPF_RB_QUERY = { AVAIL_DATA: 0, RING_SIZE: 1, CONS_POS: 2, PROD_POS: 3 } as const;

/** max_entries of a ringbuf map: a power of two and a multiple of the page size. */
export const isValidRingbufSize = (bytes: number, pageSize = 4096): boolean =>
  Number.isInteger(bytes) && bytes >= pageSize && (bytes & (bytes - 1)) === 0 && bytes % pageSize === 0;

/** Bytes a record of `size` occupies in the ring: header + data rounded up to 8. */
export const ringbufRecordSpan = (size: number): number => Math.ceil((size + BPF_RINGBUF_HDR_SZ) / 8) * 8;

/**
 * Input records: reserved from `kexec_input` with a constant size (the verifier needs it constant),
 * filled by bpf_helper_carrier(IN) or used as decompression output, then always discarded. They are
 * scratch memory larger than the 512-byte stack; user space never sees their contents.
 */
export const INPUT_RINGBUF = 'kexec_input';

/** Result records: exactly one `struct kexec_bpf_result` submitted per run; the loader reads it. */
export const RESULT_RINGBUF = 'kexec_result';

export const KEXEC_BPF_RESULT_MAGIC = 0x5242584b; // "KXBR" little-endian
export const KEXEC_BPF_RESULT_VERSION = 1;

/** kexec_bpf_result.flags: which resources the program replaced, and whether a nested PE follows. */
export const KEXEC_BPF_RESULT_F = {
  KERNEL: 1 << 0,
  INITRD: 1 << 1,
  CMDLINE: 1 << 2,
  NESTED: 1 << 3,
} as const;

export const KEXEC_BPF_RESULT = layoutStruct('kexec_bpf_result', [
  { name: 'magic', type: '__u32' },
  { name: 'version', type: '__u16' },
  { name: 'flags', type: '__u16' },
  /** 0 or -errno */
  { name: 'status', type: '__s32' },
  /** the hook's depth argument */
  { name: 'depth', type: '__u32' },
  /** NUL-padded format name, e.g. "zboot", "uki" */
  { name: 'format', type: 'char', count: 16 },
  /** NUL-padded free text for the loader's log */
  { name: 'detail', type: 'char', count: 32 },
]);
