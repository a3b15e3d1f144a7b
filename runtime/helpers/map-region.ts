/**
 * Map memory as VM regions. A map owns its bytes; each VM Memory gets a region aliasing them the first
 * time a program there needs an address (lddw map_value at load, a lookup during a run). A region added
 * during a run is released with the run, so validity is checked on every use and the region re-added
 * when stale — the bytes, owned by the map, persist either way.
 */
import type { Memory, Region, RegionKind } from '../vm/index.ts';

export class BoundBytes {
  readonly #regions = new WeakMap<Memory, Region>();
  readonly bytes: Uint8Array;
  readonly #kind: RegionKind;
  readonly #name: string;
  readonly #writable: boolean;
  constructor(bytes: Uint8Array, kind: RegionKind, name: string, writable: boolean) {
    this.bytes = bytes;
    this.#kind = kind;
    this.#name = name;
    this.#writable = writable;
  }

  /** The region of these bytes in `memory`, added if absent or released. */
  regionIn(memory: Memory): Region {
    const r = this.#regions.get(memory);
    if (r !== undefined && memory.regions[r.index] === r) return r;
    const added = memory.add(this.#kind, this.bytes, this.#name, this.#writable);
    this.#regions.set(memory, added);
    return added;
  }

  /** Byte offset of `address` in this object's region of `memory`, or undefined if it points elsewhere. */
  offsetOf(memory: Memory, address: bigint): number | undefined {
    const r = this.#regions.get(memory);
    if (r === undefined || memory.regions[r.index] !== r) return undefined;
    const off = address - r.address;
    return off >= 0n && off < BigInt(this.bytes.byteLength) ? Number(off) : undefined;
  }
}
