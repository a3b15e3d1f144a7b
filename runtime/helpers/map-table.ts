/**
 * The maps a program can name. A program gets a map as an opaque handle (lddw map_fd → the kernel's
 * `struct bpf_map *`); here a handle is an address in a range no VM region can have (like the kernel's
 * vmalloc area), so dereferencing it faults. `resolver(memory)` gives the VM's lddw resolver for the
 * table: map_fd/map_idx → handle, map_value/map_idx_value → address of an array map's value + offset.
 */
import { BPF_MAP_TYPE, E, MAP_TYPES } from '../../bpf/abi/index.ts';
import type { LddwResolver, Memory } from '../vm/index.ts';
import { ArrayMap } from './array-map.ts';
import { HelperError } from './errors.ts';
import { HashMap } from './hash-map.ts';
import type { MapAttr } from './kv-map.ts';
import { RingBuf } from './ringbuf.ts';

export type BpfMap = ArrayMap | HashMap | RingBuf;

/**
 * BPF_MAP_CREATE for the modelled types (array, hash, ringbuf); throws HelperError with the kernel's
 * errno for bad attributes, UNSUPPORTED_MAP_TYPE (-EINVAL) for any other type.
 */
export const createMap = (mapType: number, attr: MapAttr): BpfMap => {
  switch (mapType) {
    case BPF_MAP_TYPE.ARRAY:
      return new ArrayMap(attr);
    case BPF_MAP_TYPE.HASH:
      return new HashMap(attr);
    case BPF_MAP_TYPE.RINGBUF:
      return new RingBuf(attr);
    default: {
      const name = MAP_TYPES.byId(mapType)?.name ?? `map type ${mapType}`;
      throw new HelperError('UNSUPPORTED_MAP_TYPE', `${name} is not modelled`, -E.EINVAL);
    }
  }
};

/** High half of map handles: 0xffffc900_xxxxxxxx, far past the VM's regions (0xffff8000 + index). */
const HANDLE_BASE = 0xffffc900_00000000n;
const HANDLE_STRIDE = 0x1000n;

export class MapTable {
  readonly #byId: BpfMap[] = [];
  readonly #byFd = new Map<number, number>();
  readonly #byName = new Map<string, number>();

  /**
   * Adds a map; `fd` is the number lddw map_fd carries for it (default: its index, which is what
   * lddw map_idx carries — libbpf's fd_array order).
   */
  add(map: BpfMap, fd?: number): this {
    const id = this.#byId.length;
    this.#byId.push(map);
    const f = fd ?? id;
    if (this.#byFd.has(f)) throw new RangeError(`map fd ${f} is taken`);
    this.#byFd.set(f, id);
    if (!this.#byName.has(map.name)) this.#byName.set(map.name, id);
    return this;
  }

  get maps(): readonly BpfMap[] {
    return this.#byId;
  }

  byName(name: string): BpfMap | undefined {
    const id = this.#byName.get(name);
    return id === undefined ? undefined : this.#byId[id];
  }

  byFd(fd: number): BpfMap | undefined {
    const id = this.#byFd.get(fd);
    return id === undefined ? undefined : this.#byId[id];
  }

  /** The handle a program holds for `map` (R1 of map helpers). */
  handleOf(map: BpfMap): bigint {
    const id = this.#byId.indexOf(map);
    if (id < 0) throw new RangeError(`map ${map.name} is not in the table`);
    return HANDLE_BASE + BigInt(id) * HANDLE_STRIDE;
  }

  /** The map a handle names; throws NOT_A_MAP (a verified program never passes anything else). */
  fromHandle(handle: bigint): BpfMap {
    const rel = handle - HANDLE_BASE;
    const id = rel >= 0n && rel % HANDLE_STRIDE === 0n ? Number(rel / HANDLE_STRIDE) : -1;
    const map = this.#byId[id];
    if (map === undefined) throw new HelperError('NOT_A_MAP', `0x${handle.toString(16)} is not a map handle`);
    return map;
  }

  /** The lddw resolver over this table for programs running in `memory`. */
  resolver(memory: Memory): LddwResolver {
    return (kind, imm, imm2) => {
      const map = kind === 'map_idx' || kind === 'map_idx_value' ? this.#byId[imm] : this.byFd(imm);
      if (map === undefined) return undefined;
      if (kind === 'map_fd' || kind === 'map_idx') return this.handleOf(map);
      if ((kind === 'map_value' || kind === 'map_idx_value') && map instanceof ArrayMap) {
        // array_map_direct_value_addr(): single-element arrays only, the offset inside the value
        const off = imm2 >>> 0;
        return map.maxEntries === 1 && off < map.valueSize ? map.valueAddress(memory, off) : undefined;
      }
      return undefined;
    };
  }
}
