/**
 * BPF_MAP_TYPE_ARRAY as kernel/bpf/arraymap.c: max_entries preallocated elements of
 * round_up(value_size, 8) bytes in one block, every element always exists (zero at creation), u32 keys;
 * update with BPF_NOEXIST is -EEXIST, an index past the end is -E2BIG, delete is -EINVAL.
 */
import { E } from '../../bpf/abi/index.ts';
import type { Memory } from '../vm/index.ts';
import { HelperError } from './errors.ts';
import { checkAttrIntegers, flagsOutOfRange, type KeyValueMap, type MapAttr, wantsLock } from './kv-map.ts';
import { BoundBytes } from './map-region.ts';
import { BPF_F_RDONLY_PROG, BPF_NOEXIST, roundUp8 } from './map-flags.ts';

const u32le = (k: Uint8Array): number =>
  ((k[0] ?? 0) | ((k[1] ?? 0) << 8) | ((k[2] ?? 0) << 16) | ((k[3] ?? 0) << 24)) >>> 0;

export class ArrayMap implements KeyValueMap {
  readonly type = 'BPF_MAP_TYPE_ARRAY';
  readonly name: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly mapFlags: number;
  /** round_up(value_size, 8): the stride of the value block. */
  readonly elemSize: number;
  readonly #values: BoundBytes;
  /** Set once anything could have written the values: an update, a live view, the region in a VM's memory. */
  #exposed = false;

  constructor(attr: MapAttr) {
    checkAttrIntegers('array map', attr);
    const { keySize, valueSize, maxEntries } = attr;
    if (maxEntries === 0 || keySize !== 4 || valueSize === 0)
      throw new HelperError(
        'BAD_MAP_ATTR',
        `array map: key_size must be 4, value_size and max_entries non-zero`,
        -E.EINVAL,
      );
    // array_map_alloc_check(): round_up(value_size, 8) must not overflow an int
    if (valueSize > 0x7fffffff)
      throw new HelperError('BAD_MAP_ATTR', `array map: value_size ${valueSize} exceeds INT_MAX`, -E.E2BIG);
    this.name = attr.name ?? 'array';
    this.keySize = keySize;
    this.valueSize = valueSize;
    this.maxEntries = maxEntries;
    this.mapFlags = attr.mapFlags ?? 0;
    this.elemSize = roundUp8(valueSize);
    const total = this.elemSize * maxEntries;
    if (total > 2 ** 31 - 1)
      throw new HelperError(
        'BAD_MAP_ATTR',
        `array map: ${total} bytes of values is more than the model allocates`,
        -E.ENOMEM,
      );
    const writable = (this.mapFlags & BPF_F_RDONLY_PROG) === 0;
    this.#values = new BoundBytes(new Uint8Array(total), 'map_value', `map ${this.name}`, writable);
  }

  /** Address of element 0 in `memory` (lddw map_value: libbpf's global data maps are 1-entry arrays). */
  valueAddress(memory: Memory, offset = 0): bigint {
    this.#exposed = true;
    return this.#values.regionIn(memory).address + BigInt(offset);
  }

  /**
   * True while every value is still the zero it was created as, known without reading them: nothing has
   * updated the map or had a live view or a VM region of its values. (The kernel's program digest uses
   * it to skip reading hundreds of MiB of untouched work buffers.)
   */
  get untouched(): boolean {
    return !this.#exposed;
  }

  /** The value bytes of element `index` (live view, for the loader filling the map and for tests). */
  element(index: number): Uint8Array {
    this.#exposed = true;
    return this.#view(index);
  }

  #view(index: number): Uint8Array {
    if (!Number.isInteger(index) || index < 0 || index >= this.maxEntries)
      throw new RangeError(`array map ${this.name}: index ${index} out of [0, ${this.maxEntries})`);
    const at = index * this.elemSize;
    return this.#values.bytes.subarray(at, at + this.valueSize);
  }

  lookupAddress(memory: Memory, key: Uint8Array): bigint {
    const index = u32le(key);
    if (index >= this.maxEntries) return 0n;
    return this.valueAddress(memory, index * this.elemSize);
  }

  lookup(key: Uint8Array): Uint8Array | undefined {
    const index = u32le(key);
    return index < this.maxEntries ? this.#view(index).slice() : undefined;
  }

  update(key: Uint8Array, value: Uint8Array, flags: number | bigint): number {
    // array_map_update_elem's order: flags, index, NOEXIST (every element exists), then the lock check
    const f = BigInt(flags);
    if (flagsOutOfRange(f)) return -E.EINVAL;
    const index = u32le(key);
    if (index >= this.maxEntries) return -E.E2BIG;
    if ((f & BigInt(BPF_NOEXIST)) !== 0n) return -E.EEXIST;
    if (wantsLock(f)) return -E.EINVAL;
    this.element(index).set(value.subarray(0, this.valueSize));
    return 0;
  }

  delete(_key: Uint8Array): number {
    return -E.EINVAL;
  }

  keys(): Uint8Array[] {
    return Array.from({ length: this.maxEntries }, (_, i) =>
      Uint8Array.of(i & 255, (i >>> 8) & 255, (i >>> 16) & 255, i >>> 24),
    );
  }
}
