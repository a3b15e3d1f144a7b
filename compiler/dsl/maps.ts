/**
 * Module-level map and ring-buffer declarations. Compiled, each becomes a BTF-defined map of the
 * object (named after the `const` it is assigned to); natively each holds its entries in memory, and
 * the host (a test, the kernel model) fills and reads them through the same objects.
 * Lookups and reservations return `T | null`; the program must check for null before use.
 */
import { ringbufRecordSpan } from '../../bpf/abi/ringbuf.ts';
import { Bytes } from './bytes.ts';
import type { i32, u32 } from './ints.ts';

/** -errno values the native maps return, as the kernel's. */
const ENOENT = 2;
const E2BIG = 7;

export interface MapDecl {
  /** Bytes per value. */
  readonly valueSize: number;
  readonly maxEntries: number;
}

export class ArrayMap {
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly #values: Uint8Array[];
  constructor(def: MapDecl) {
    this.valueSize = def.valueSize;
    this.maxEntries = def.maxEntries;
    this.#values = Array.from({ length: def.maxEntries }, () => new Uint8Array(def.valueSize));
  }
  /** The value at `key` (aliased), or null when key ≥ maxEntries. */
  lookup(key: u32): Bytes | null {
    const v = this.#values[key];
    return v === undefined ? null : new Bytes(v);
  }
  /** Copies `value` into slot `key`: 0, or -E2BIG for a key out of range. */
  update(key: u32, value: Bytes): i32 {
    const v = this.#values[key];
    if (v === undefined) return -E2BIG;
    v.set(value.raw().subarray(0, this.valueSize));
    return 0;
  }
}

export class HashMap {
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly #values = new Map<number, Uint8Array>();
  constructor(def: MapDecl) {
    this.valueSize = def.valueSize;
    this.maxEntries = def.maxEntries;
  }
  lookup(key: u32): Bytes | null {
    const v = this.#values.get(key);
    return v === undefined ? null : new Bytes(v);
  }
  /** Inserts or replaces: 0, or -E2BIG when the map is full. */
  update(key: u32, value: Bytes): i32 {
    const old = this.#values.get(key);
    if (old === undefined && this.#values.size >= this.maxEntries) return -E2BIG;
    const v = old ?? new Uint8Array(this.valueSize);
    v.set(value.raw().subarray(0, this.valueSize));
    this.#values.set(key, v);
    return 0;
  }
  /** 0, or -ENOENT. */
  delete(key: u32): i32 {
    return this.#values.delete(key) ? 0 : -ENOENT;
  }
}

/** A reserved ring-buffer record: must be submitted or discarded on every path. */
export class Reservation extends Bytes {
  readonly #ring: RingBuf;
  #done = false;
  constructor(ring: RingBuf, bytes: Uint8Array) {
    super(bytes);
    this.#ring = ring;
  }
  submit(): void {
    this.#finish(true);
  }
  discard(): void {
    this.#finish(false);
  }
  #finish(keep: boolean): void {
    if (this.#done) throw new Error('ring-buffer record released twice');
    this.#done = true;
    this.#ring.release(this, keep);
  }
}

export class RingBuf {
  /** Ring size in bytes (a power of two, a multiple of the page size). */
  readonly size: number;
  #used = 0;
  readonly #submitted: Uint8Array[] = [];
  constructor(def: { size: number }) {
    this.size = def.size;
  }
  /** A zeroed record of `size` bytes (a constant for the compiler), or null when the ring is full. */
  reserve(size: u32): Reservation | null {
    const span = ringbufRecordSpan(size);
    if (this.#used + span > this.size) return null;
    this.#used += span;
    return new Reservation(this, new Uint8Array(size));
  }
  /** @internal called by Reservation */
  release(rec: Reservation, keep: boolean): void {
    if (keep) this.#submitted.push(rec.raw());
    else this.#used -= ringbufRecordSpan(rec.size);
  }
  /** Host side: the submitted records in order, freeing their space. */
  drain(): Uint8Array[] {
    const out = this.#submitted.splice(0);
    for (const r of out) this.#used -= ringbufRecordSpan(r.byteLength);
    return out;
  }
}

export const arrayMap = (def: MapDecl): ArrayMap => new ArrayMap(def);
export const hashMap = (def: MapDecl): HashMap => new HashMap(def);
export const ringbuf = (def: { size: number }): RingBuf => new RingBuf(def);
