/**
 * bpf_helper_carrier(name, buf, size, dir) (212), docs/ABI.md §2.1: moves a boot resource between the
 * kernel and a program buffer. IN copies min(size, len) bytes and returns the count (size 0: the length,
 * nothing copied); OUT replaces the resource with a copy of buf[0..size) and returns size; APPEND adds a
 * copy of buf[0..size) at the resource's end (creating it when absent) and returns size.
 * `carrierModel` is the semantics over plain bytes (also what native DSL runs call); `carrierHelper` reads
 * the arguments out of the VM.
 */
import {
  type BootResourceName,
  bootResource,
  CARRIER_DIR,
  describeErrno,
  E,
  MAX_RESOURCE_SIZE,
  RESOURCE_NAME_MAX,
} from '../../bpf/abi/index.ts';
import type { HelperFn } from '../vm/index.ts';
import { argU32, readCString, ret } from './args.ts';
import type { KernelLogSink } from './kernel-log.ts';
import type { KexecResources } from './resources.ts';

export interface CarrierCall {
  /** The resource name, or undefined when it was not a string the kernel could read. */
  readonly name: string | undefined;
  readonly size: number;
  readonly dir: bigint;
  /** buf[0..size), checked for writing (IN) or reading (OUT); asked for only when bytes move. */
  buffer(write: boolean): Uint8Array;
}

/** The carrier's semantics: bytes moved or -errno. */
export const carrierModel =
  (resources: KexecResources, log: KernelLogSink) =>
  (call: CarrierCall): number => {
    const { name, size, dir } = call;
    const fail = (errno: number, why: string): number => {
      log.log('err', `kexec_bpf: bpf_helper_carrier(${JSON.stringify(name ?? '?')}): ${why}: ${describeErrno(-errno)}`);
      return -errno;
    };
    const res = name === undefined ? undefined : bootResource(name);
    if (res === undefined) return fail(E.EINVAL, 'not a boot resource');
    const which: BootResourceName = res.name;
    if (dir === BigInt(CARRIER_DIR.IN)) {
      const cur = resources.get(which);
      if (cur === undefined) return fail(E.ENOENT, 'no such resource');
      if (size === 0) return cur.length;
      const n = Math.min(size, cur.length);
      call.buffer(true).set(cur.subarray(0, n));
      return n;
    }
    if (dir === BigInt(CARRIER_DIR.OUT)) {
      if (size > MAX_RESOURCE_SIZE) return fail(E.E2BIG, `${size} bytes exceed ${MAX_RESOURCE_SIZE}`);
      resources.set(which, size === 0 ? new Uint8Array(0) : call.buffer(false).slice(0, size));
      log.log('info', `kexec_bpf: ${which} replaced (${size} bytes)`);
      return size;
    }
    if (dir === BigInt(CARRIER_DIR.APPEND)) {
      const cur = resources.get(which) ?? new Uint8Array(0);
      const total = cur.length + size;
      if (total > MAX_RESOURCE_SIZE) return fail(E.E2BIG, `${total} bytes exceed ${MAX_RESOURCE_SIZE}`);
      // a no-op append still creates an absent resource, so a program can start an empty one
      if (size === 0 && resources.get(which) !== undefined) return 0;
      resources.append(which, size === 0 ? new Uint8Array(0) : call.buffer(false).subarray(0, size));
      return size;
    }
    return fail(E.EINVAL, `dir ${dir} is neither IN (0), OUT (1) nor APPEND (2)`);
  };

export const carrierHelper = (resources: KexecResources, log: KernelLogSink): HelperFn => {
  const model = carrierModel(resources, log);
  return (env) => {
    const size = argU32(env, 3);
    ret(
      env,
      model({
        name: readCString(env.memory, env.arg(1), RESOURCE_NAME_MAX),
        size,
        dir: env.arg(4),
        buffer: (write) => env.memory.slice(env.arg(2), size, write),
      }),
    );
  };
};
