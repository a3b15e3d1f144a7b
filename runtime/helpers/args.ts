/** Reading helper arguments as the kernel's BPF_CALL_x casts them, and strings out of VM memory. */
import type { HelperEnv, Memory } from '../vm/index.ts';

/** R(i) cast to u32, as a `u32` parameter of a BPF_CALL_x function receives it. */
export const argU32 = (env: HelperEnv, i: number): number => (env.regs[2 * i] as number) >>> 0;

/** R(i) as a non-negative JS number when below 2^53, else Infinity (a size no region can have). */
export const argSize = (env: HelperEnv, i: number): number => {
  const v = env.arg(i);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Number.POSITIVE_INFINITY;
};

/** Sets R0 to a signed result (a count or -errno). */
export const ret = (env: HelperEnv, value: number | bigint): void => env.setReturn(BigInt(value));

/**
 * The NUL-terminated string at `address`, reading at most `max` bytes (bounds-checked byte by byte, so a
 * string at the end of its region is fine); undefined when no NUL comes within `max` bytes or the region.
 */
export const readCString = (memory: Memory, address: bigint, max: number): string | undefined => {
  let out = '';
  for (let i = 0; i < max; i++) {
    let b: number;
    try {
      b = memory.slice(address + BigInt(i), 1)[0] as number;
    } catch {
      return undefined;
    }
    if (b === 0) return out;
    out += String.fromCharCode(b);
  }
  return undefined;
};

/** Latin-1 decoding of bytes (names in the kernel are byte strings). */
export const latin1 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
