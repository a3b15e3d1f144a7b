/**
 * Helper intrinsics. Compiled, each is a `call` of the helper id bpf/abi defines; natively each calls
 * the `HelperHost` the test or kernel model installed with `setHelperHost`. A helper the host does not
 * implement throws `MissingHelperError` naming it: native mode never invents a result.
 */
import { E } from '../../bpf/abi/errno.ts';
import { BPF_MAX_LOOPS } from '../../bpf/abi/linux-helpers.ts';
import { CARRIER_DIR } from '../../bpf/abi/resources.ts';
import { BoundsFault, type Bytes } from './bytes.ts';
import type { i32, u32, u64 } from './ints.ts';

/** The boot resources bpf_helper_carrier moves (bpf/abi BOOT_RESOURCES). */
export type Resource = 'kernel' | 'initrd' | 'cmdline';

/** bpf_helper_carrier's direction (bpf/abi CARRIER_DIR): IN copies kernel → buf, OUT replaces the resource. */
export const IN = CARRIER_DIR.IN;
export const OUT = CARRIER_DIR.OUT;
/** APPEND adds buf[0..size) at the end of the resource (docs/ABI.md §2.1). */
export const APPEND = CARRIER_DIR.APPEND;
export type CarrierDir = typeof IN | typeof OUT | typeof APPEND;

/**
 * What native mode calls. Buffers are the program's own memory (views alias it), so a helper that
 * writes into `buf` is seen by the program, as in the kernel. Results are what the helper returns in R0.
 */
export interface HelperHost {
  carrier?(name: Resource, buf: Uint8Array | null, size: number, dir: CarrierDir): number;
  decompress?(src: Uint8Array, dst: Uint8Array): number;
  supplementInitrd?(dstDir: string, addonName: Uint8Array): number;
  ktimeGetNs?(): bigint;
  getPrandomU32?(): number;
}

export class MissingHelperError extends Error {
  readonly code = 'MISSING_HELPER';
  readonly helper: string;
  constructor(helper: string) {
    super(`native helper ${helper} is not implemented by the installed HelperHost (call setHelperHost first)`);
    this.helper = helper;
  }
}

let host: HelperHost = {};

/** Installs the helper models native runs call; returns the previous host. */
export const setHelperHost = (h: HelperHost): HelperHost => {
  const prev = host;
  host = h;
  return prev;
};

const need = <K extends keyof HelperHost>(key: K, helper: string): NonNullable<HelperHost[K]> => {
  const fn = host[key];
  if (fn === undefined) throw new MissingHelperError(helper);
  return fn.bind(host) as NonNullable<HelperHost[K]>;
};

/** A size outside its buffer faults, as the compiled size check does (the program returns its fault value). */
const checkedSize = (buf: Bytes, size: number): Uint8Array => {
  if (!Number.isSafeInteger(size) || size < 0 || size > buf.size) throw new BoundsFault(0, size, buf.size);
  return buf.raw().subarray(0, size);
};

/**
 * bpf_helper_carrier (id 212): moves `size` bytes of a boot resource into `buf` (IN) or replaces the
 * resource with them (OUT). Returns bytes moved or -errno (sizes are at most 2^29: an i32).
 */
export const carrier = (name: Resource, buf: Bytes, size: u32, dir: CarrierDir): i32 =>
  need('carrier', 'bpf_helper_carrier')(name, checkedSize(buf, size), size, dir);

/** bpf_helper_decompress (id 213): decompresses src[0..srcSize) into dst[0..dstSize). Bytes written or -errno. */
export const decompress = (src: Bytes, srcSize: u32, dst: Bytes, dstSize: u32): i32 =>
  need('decompress', 'bpf_helper_decompress')(checkedSize(src, srcSize), checkedSize(dst, dstSize));

/**
 * bpf_helper_supplement_initrd (id 214): `addon[0..size)` holds an addon's name (NUL-terminated, as the
 * loader's addon-name map gives it); the kernel verifies that addon's signature and appends it to the
 * initrd as a newc archive under dstDir. Returns the bytes appended (alignment padding included) or
 * -errno (docs/ABI.md).
 */
export const supplementInitrd = (dstDir: string, addonName: Bytes, size: u32): i32 =>
  need('supplementInitrd', 'bpf_helper_supplement_initrd')(dstDir, checkedSize(addonName, size));

/** bpf_ktime_get_ns (id 5). */
export const ktimeGetNs = (): u64 => need('ktimeGetNs', 'bpf_ktime_get_ns')();

/** bpf_get_prandom_u32 (id 7). */
export const getPrandomU32 = (): u32 => need('getPrandomU32', 'bpf_get_prandom_u32')();

/**
 * bpf_loop (id 181): calls `callback(i)` for i = 0, 1, … n - 1 until it returns true, and returns the
 * number of calls made (-E2BIG beyond 2^23). The callback is a `noinline` function of at most one
 * integer parameter returning a boolean; the verifier checks its body once for all iterations, where
 * a `for` loop is checked once per iteration. It reaches the program's state through maps.
 */
export const bpfLoop = (n: u32, callback: (i: u32) => boolean): i32 => {
  if (n > BPF_MAX_LOOPS) return -E.E2BIG;
  for (let i = 0; i < n; i++) if (callback(i)) return i + 1;
  return n;
};
