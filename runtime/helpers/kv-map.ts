/** What array and hash maps share: creation attributes, the key/value interface, attribute checks. */
import { E } from '../../bpf/abi/index.ts';
import type { Memory } from '../vm/index.ts';
import { HelperError } from './errors.ts';
import { BPF_EXIST, BPF_F_LOCK } from './map-flags.ts';

export interface MapAttr {
  readonly name?: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** BPF_F_* creation flags (BPF_F_RDONLY_PROG makes values read-only for programs). */
  readonly mapFlags?: number;
}

/** A map with keys and values (array, hash), seen from both sides: the program's helpers and the host's bpf(2). */
export interface KeyValueMap {
  readonly type: 'BPF_MAP_TYPE_ARRAY' | 'BPF_MAP_TYPE_HASH';
  readonly name: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly mapFlags: number;
  /** bpf_map_lookup_elem(): the address of the value in `memory` (stable: the program writes through it), 0 when absent. */
  lookupAddress(memory: Memory, key: Uint8Array): bigint;
  /** Copy of the value (BPF_MAP_LOOKUP_ELEM), undefined when absent. */
  lookup(key: Uint8Array): Uint8Array | undefined;
  /** The map's update operation, as bpf_map_update_elem() calls it: 0 or -errno (the syscall: `syscallUpdate`). */
  update(key: Uint8Array, value: Uint8Array, flags: number | bigint): number;
  /** bpf_map_delete_elem() / BPF_MAP_DELETE_ELEM: 0 or -errno. */
  delete(key: Uint8Array): number;
  /** Keys present, in the map's iteration order. */
  keys(): Uint8Array[];
}

/** Validates integer attributes (the syscall would refuse non-integers at the ABI level). */
export const checkAttrIntegers = (kind: string, a: MapAttr): void => {
  for (const [field, v] of [
    ['key_size', a.keySize],
    ['value_size', a.valueSize],
    ['max_entries', a.maxEntries],
    ['map_flags', a.mapFlags ?? 0],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
      throw new HelperError('BAD_MAP_ATTR', `${kind}: ${field} ${v} is not a u32`, -E.EINVAL);
  }
};

/** Update flags other than BPF_ANY/NOEXIST/EXIST (BPF_F_LOCK aside): both map types answer -EINVAL first. */
export const flagsOutOfRange = (flags: bigint): boolean => (flags & ~BigInt(BPF_F_LOCK)) > BigInt(BPF_EXIST);

/** BPF_F_LOCK needs a bpf_spin_lock in the value's BTF, which no model value has: -EINVAL (checked at a type-specific point). */
export const wantsLock = (flags: bigint): boolean => (flags & BigInt(BPF_F_LOCK)) !== 0n;

/**
 * BPF_MAP_UPDATE_ELEM from user space: the syscall refuses BPF_F_LOCK on a value without a spin lock
 * before the map's own checks run (so its errno order differs from the helper's), then updates.
 */
export const syscallUpdate = (map: KeyValueMap, key: Uint8Array, value: Uint8Array, flags: number | bigint): number =>
  wantsLock(BigInt(flags)) ? -E.EINVAL : map.update(key, value, flags);
