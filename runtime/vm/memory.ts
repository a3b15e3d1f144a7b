/**
 * The VM's memory model: a table of typed regions. A 64-bit address is `(hi, lo)` where `hi` selects
 * the region (REGION_HI_BASE + index) and `lo` is the byte offset inside it, so a bounds check is one
 * subtraction and two compares, and pointer arithmetic that leaves a region can never land in another
 * one's bytes. Addresses look like kernel direct-map pointers (0xffff8000_00000000 + index << 32).
 *
 * Regions 0..7 are the stacks of the eight call frames (512 bytes each, R10 = end of the frame's
 * region). Regions added before a run (map values) persist; a run's own regions (its input, ringbuf
 * records, helper buffers) are released when it ends.
 */
import { VmError } from './errors.ts';

export type RegionKind = 'stack' | 'ctx' | 'input' | 'map_value' | 'ringbuf' | 'helper';

/** High half of region 0's addresses (as int32). */
export const REGION_HI_BASE = 0xffff8000 | 0;
export const MAX_REGIONS = 4096;
export const MAX_FRAMES = 8;
export const STACK_SIZE = 512;

export interface Region {
  readonly index: number;
  readonly kind: RegionKind;
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly writable: boolean;
  /** Address of byte 0. */
  readonly address: bigint;
}

export const regionAddress = (index: number, offset = 0): bigint =>
  (BigInt((REGION_HI_BASE + index) >>> 0) << 32n) + BigInt(offset);

export class Memory {
  /** Byte length of each region, for loads. */
  readonly sizes = new Int32Array(MAX_REGIONS);
  /** Byte length of each writable region, 0 for read-only ones, for stores. */
  readonly wsizes = new Int32Array(MAX_REGIONS);
  /** Little-endian views, indexed like `sizes`. */
  readonly views: DataView[] = [];
  readonly regions: Region[] = [];
  /** The eight frame stacks, contiguous (region i = frame i). */
  readonly stack = new Uint8Array(MAX_FRAMES * STACK_SIZE);
  count = 0;

  constructor() {
    for (let i = 0; i < MAX_FRAMES; i++) {
      this.add('stack', this.stack.subarray(i * STACK_SIZE, (i + 1) * STACK_SIZE), `stack frame ${i}`);
    }
  }

  /** Adds a region aliasing `bytes` (no copy); returns it. */
  add(kind: RegionKind, bytes: Uint8Array, name: string = kind, writable = true): Region {
    const index = this.count;
    if (index >= MAX_REGIONS) throw new VmError('TOO_MANY_REGIONS', `more than ${MAX_REGIONS} memory regions`);
    const region: Region = { index, kind, name, bytes, writable, address: regionAddress(index) };
    this.regions[index] = region;
    this.views[index] = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.sizes[index] = bytes.byteLength;
    this.wsizes[index] = writable ? bytes.byteLength : 0;
    this.count = index + 1;
    return region;
  }

  /** Region count now; pass to release() to drop every region added after this point. */
  mark(): number {
    return this.count;
  }

  release(mark: number): void {
    for (let i = mark; i < this.count; i++) {
      this.sizes[i] = 0;
      this.wsizes[i] = 0;
    }
    this.regions.length = mark;
    this.views.length = mark;
    this.count = mark;
  }

  /** Region index of an address's high half, or -1. */
  indexOf(hi: number): number {
    const i = ((hi | 0) - REGION_HI_BASE) >>> 0;
    return i < this.count ? i : -1;
  }

  /** Human description of where an address points, for error messages. */
  describe(address: bigint): string {
    const hi = Number(BigInt.asUintN(64, address) >> 32n) | 0;
    const i = this.indexOf(hi);
    if (i < 0) return 'no region';
    const r = this.regions[i] as Region;
    return `${r.name} [0x${r.address.toString(16)}, +${r.bytes.byteLength})`;
  }

  /** The error for a failed access at (hi, lo): BAD_ACCESS, or READ_ONLY for a store into a read-only region. */
  fault(lo: number, hi: number, size: number, write: boolean, at: { pc?: number; insn?: string } = {}): VmError {
    const address = BigInt.asUintN(64, (BigInt(hi) << 32n) + BigInt(lo));
    const i = this.indexOf(hi);
    const readOnly = write && i >= 0 && lo >= 0 && lo + size <= (this.sizes[i] as number);
    const region = this.describe(address);
    const what = `${write ? 'write' : 'read'} of ${size} byte${size === 1 ? '' : 's'} at 0x${address.toString(16)}`;
    const detail = readOnly ? `${what} into read-only ${region}` : `out of bounds ${what} (${region})`;
    return new VmError(readOnly ? 'READ_ONLY' : 'BAD_ACCESS', detail, { ...at, address, size, region });
  }

  /**
   * The bytes [address, address + size) as a view into their region, after a bounds (and, for
   * writes, permission) check. For helpers; throws a BAD_ACCESS / READ_ONLY VmError.
   */
  slice(address: bigint, size: number, write = false): Uint8Array {
    const a = BigInt.asUintN(64, address);
    const hi = Number(a >> 32n) | 0;
    const lo = Number(a & 0xffffffffn);
    const i = this.indexOf(hi);
    const limits = write ? this.wsizes : this.sizes;
    if (i < 0 || size < 0 || lo + size > (limits[i] as number)) throw this.fault(lo, hi, size, write);
    return (this.regions[i] as Region).bytes.subarray(lo, lo + size);
  }
}
