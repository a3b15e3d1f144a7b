/**
 * BPF_MAP_TYPE_HASH as kernel/bpf/hashtab.c with preallocated elements (the default): max_entries value
 * slots plus the one per-CPU "extra" element (one CPU here). A new key takes a slot from the free list
 * (-E2BIG when none is left); replacing a key's value writes the extra slot and hands the old one back
 * as the new extra, so a pointer a program looked up earlier keeps pointing at valid (stale) memory, as
 * in the kernel. Delete returns the slot to the free list. Iteration is insertion order (the kernel's is
 * bucket order).
 */
import { E } from '../../bpf/abi/index.ts';
import type { Memory } from '../vm/index.ts';
import { latin1 } from './args.ts';
import { HelperError } from './errors.ts';
import { checkAttrIntegers, flagsOutOfRange, type KeyValueMap, type MapAttr, wantsLock } from './kv-map.ts';
import { BoundBytes } from './map-region.ts';
import { BPF_EXIST, BPF_F_LOCK, BPF_F_RDONLY_PROG, BPF_NOEXIST, KMALLOC_MAX_SIZE, roundUp8 } from './map-flags.ts';

/** sizeof(struct htab_elem) on 64-bit kernels (Linux 6.18 x86-64 refuses key + value >= 4 MiB - 48). */
const HTAB_ELEM_SIZE = 48;

export class HashMap implements KeyValueMap {
  readonly type = 'BPF_MAP_TYPE_HASH';
  readonly name: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly mapFlags: number;
  readonly elemSize: number;
  readonly #pool: BoundBytes;
  /** key (latin-1) → slot */
  readonly #slots = new Map<string, number>();
  readonly #free: number[] = [];
  #extra: number;

  constructor(attr: MapAttr) {
    checkAttrIntegers('hash map', attr);
    const { keySize, valueSize, maxEntries } = attr;
    if (maxEntries === 0 || keySize === 0 || valueSize === 0)
      throw new HelperError(
        'BAD_MAP_ATTR',
        'hash map: key_size, value_size and max_entries must be non-zero',
        -E.EINVAL,
      );
    // htab_map_alloc_check(): an element (header, key, value) must fit one kmalloc
    if (keySize + valueSize >= KMALLOC_MAX_SIZE - HTAB_ELEM_SIZE)
      throw new HelperError(
        'BAD_MAP_ATTR',
        `hash map: key_size + value_size ${keySize + valueSize} too large`,
        -E.E2BIG,
      );
    this.name = attr.name ?? 'hash';
    this.keySize = keySize;
    this.valueSize = valueSize;
    this.maxEntries = maxEntries;
    this.mapFlags = attr.mapFlags ?? 0;
    this.elemSize = roundUp8(valueSize);
    const total = this.elemSize * (maxEntries + 1);
    if (total > 2 ** 31 - 1)
      throw new HelperError(
        'BAD_MAP_ATTR',
        `hash map: ${total} bytes of elements is more than the model allocates`,
        -E.ENOMEM,
      );
    const writable = (this.mapFlags & BPF_F_RDONLY_PROG) === 0;
    this.#pool = new BoundBytes(new Uint8Array(total), 'map_value', `map ${this.name}`, writable);
    // the free list pops from the end: slot 0 first
    for (let s = maxEntries - 1; s >= 0; s--) this.#free.push(s);
    this.#extra = maxEntries;
  }

  #slot(slot: number): Uint8Array {
    const at = slot * this.elemSize;
    return this.#pool.bytes.subarray(at, at + this.valueSize);
  }

  #key(key: Uint8Array): string {
    return latin1(key.subarray(0, this.keySize));
  }

  get size(): number {
    return this.#slots.size;
  }

  lookupAddress(memory: Memory, key: Uint8Array): bigint {
    const slot = this.#slots.get(this.#key(key));
    return slot === undefined ? 0n : this.#pool.regionIn(memory).address + BigInt(slot * this.elemSize);
  }

  lookup(key: Uint8Array): Uint8Array | undefined {
    const slot = this.#slots.get(this.#key(key));
    return slot === undefined ? undefined : this.#slot(slot).slice();
  }

  update(key: Uint8Array, value: Uint8Array, flags: number | bigint): number {
    const f = BigInt(flags);
    if (flagsOutOfRange(f)) return -E.EINVAL;
    if (wantsLock(f)) return -E.EINVAL;
    const k = this.#key(key);
    const old = this.#slots.get(k);
    const op = f & ~BigInt(BPF_F_LOCK);
    if (old !== undefined && op === BigInt(BPF_NOEXIST)) return -E.EEXIST;
    if (old === undefined && op === BigInt(BPF_EXIST)) return -E.ENOENT;
    let slot: number;
    if (old !== undefined) {
      slot = this.#extra;
      this.#extra = old;
    } else {
      const popped = this.#free.pop();
      if (popped === undefined) return -E.E2BIG;
      slot = popped;
    }
    const dst = this.#slot(slot);
    dst.fill(0);
    dst.set(value.subarray(0, this.valueSize));
    this.#slots.set(k, slot);
    return 0;
  }

  delete(key: Uint8Array): number {
    const k = this.#key(key);
    const slot = this.#slots.get(k);
    if (slot === undefined) return -E.ENOENT;
    this.#slots.delete(k);
    this.#free.push(slot);
    return 0;
  }

  keys(): Uint8Array[] {
    return [...this.#slots.keys()].map((k) => new Uint8Array(Buffer.from(k, 'latin1')));
  }
}
