/**
 * BPF_MAP_TYPE_RINGBUF as kernel/bpf/ringbuf.c, with a host consumer as libbpf's ring_buffer__consume().
 *
 * Positions are byte counters that only grow; a record sits at `pos & mask`: an 8-byte header (u32 len
 * with BUSY/DISCARD bits, u32 page offset) then the data, the whole rounded up to 8. Reserve fails when
 * the producer would get `mask` or more bytes ahead of the consumer or of the oldest record still busy.
 * The consumer stops at the first busy record, so records become visible in reservation order however
 * their commits are ordered; discarded records are skipped.
 *
 * The kernel maps the data pages twice so a record that wraps is contiguous for the program; here a
 * record that wraps is handed out as a scratch buffer and copied into the ring (in two pieces) at commit.
 */
import { E } from '../../bpf/abi/index.ts';
import {
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  BPF_RB_QUERY,
  BPF_RINGBUF_BUSY_BIT,
  BPF_RINGBUF_DISCARD_BIT,
  BPF_RINGBUF_HDR_SZ,
  isValidRingbufSize,
} from '../../bpf/abi/index.ts';
import type { Memory, Region } from '../vm/index.ts';
import { HelperError } from './errors.ts';
import { PAGE_SIZE } from './map-flags.ts';

/** RINGBUF_MAX_RECORD_SZ: UINT_MAX / 4. */
export const RINGBUF_MAX_RECORD_SZ = Math.floor(0xffffffff / 4);
/** Page of struct bpf_ringbuf where data starts: header page, consumer page, producer page. */
const RINGBUF_DATA_PGOFF = 3;
/** map_flags a ring buffer accepts (RINGBUF_CREATE_FLAG_MASK): BPF_F_NUMA_NODE. */
const BPF_F_NUMA_NODE = 1 << 2;

export interface RingbufAttr {
  readonly name?: string;
  /** Data size in bytes: a power of two and a multiple of the page size. */
  readonly maxEntries: number;
  readonly keySize?: number;
  readonly valueSize?: number;
  readonly mapFlags?: number;
}

/** A record as the consumer sees it. */
export interface RingbufRecord {
  /** Producer position of the record's header. */
  readonly pos: number;
  readonly data: Uint8Array;
}

/** A reserved, not yet committed record. */
interface Pending {
  readonly pos: number;
  readonly size: number;
  readonly region: Region;
  /** Data lives in this scratch buffer (the record wraps) and is copied in at commit. */
  readonly scratch: boolean;
}

const span = (len: number): number => Math.ceil((len + BPF_RINGBUF_HDR_SZ) / 8) * 8;

export class RingBuf {
  readonly type = 'BPF_MAP_TYPE_RINGBUF';
  readonly name: string;
  readonly maxEntries: number;
  readonly mapFlags: number;
  readonly mask: number;
  readonly data: Uint8Array;
  readonly #view: DataView;
  consumerPos = 0;
  producerPos = 0;
  pendingPos = 0;
  /** Consumer notifications the kernel would have queued (irq_work), by cause. */
  readonly wakeups = { commit: 0, forced: 0 };
  /** Live records of each VM memory, by the address the program holds. */
  readonly #pending = new WeakMap<Memory, Map<bigint, Pending>>();

  constructor(attr: RingbufAttr) {
    const { maxEntries, keySize = 0, valueSize = 0, mapFlags = 0 } = attr;
    if ((mapFlags & ~BPF_F_NUMA_NODE) !== 0)
      throw new HelperError('BAD_MAP_ATTR', `ringbuf: map_flags 0x${mapFlags.toString(16)} not supported`, -E.EINVAL);
    if (keySize !== 0 || valueSize !== 0 || !isValidRingbufSize(maxEntries, PAGE_SIZE))
      throw new HelperError(
        'BAD_MAP_ATTR',
        `ringbuf: key_size and value_size must be 0 and max_entries (${maxEntries}) a power of 2 multiple of ${PAGE_SIZE}`,
        -E.EINVAL,
      );
    if (maxEntries > 2 ** 30)
      throw new HelperError('BAD_MAP_ATTR', `ringbuf: ${maxEntries} bytes is more than the model allocates`, -E.ENOMEM);
    this.name = attr.name ?? 'ringbuf';
    this.maxEntries = maxEntries;
    this.mapFlags = mapFlags;
    this.mask = maxEntries - 1;
    this.data = new Uint8Array(maxEntries);
    this.#view = new DataView(this.data.buffer);
  }

  /** BPF_RB_AVAIL_DATA: bytes produced and not consumed (headers included). */
  get availData(): number {
    return this.producerPos - this.consumerPos;
  }

  /**
   * __bpf_ringbuf_reserve(): a record of `size` data bytes, as a region of `memory` the program can fill;
   * its address, or 0 (NULL) when the size is over the limit or the ring has no room.
   */
  reserve(memory: Memory, size: number): bigint {
    if (size > RINGBUF_MAX_RECORD_SZ) return 0n;
    const len = span(size);
    if (len > this.maxEntries) return 0n;
    // move pending_pos past records already committed
    let pend = this.pendingPos;
    while (pend < this.producerPos) {
      const hdrLen = this.#view.getUint32(pend & this.mask, true);
      if (hdrLen >= BPF_RINGBUF_BUSY_BIT) break;
      pend += span(hdrLen & ~BPF_RINGBUF_DISCARD_BIT);
    }
    this.pendingPos = pend;
    const prod = this.producerPos;
    const next = prod + len;
    if (next - this.consumerPos > this.mask || next - pend > this.mask) return 0n;
    const off = prod & this.mask;
    const dataAt = off + BPF_RINGBUF_HDR_SZ;
    const scratch = dataAt + size > this.maxEntries;
    const bytes = scratch ? new Uint8Array(size) : this.data.subarray(dataAt, dataAt + size);
    // the region first: if the VM's region table is full, the ring is left as it was
    const region = memory.add('ringbuf', bytes, `ringbuf ${this.name} record @${prod}`, true);
    this.#view.setUint32(off, (size | BPF_RINGBUF_BUSY_BIT) >>> 0, true);
    this.#view.setUint32(off + 4, RINGBUF_DATA_PGOFF + (off >>> 12), true);
    this.producerPos = next;
    let live = this.#pending.get(memory);
    if (live === undefined) {
      live = new Map();
      this.#pending.set(memory, live);
    }
    live.set(region.address, { pos: prod, size, region, scratch });
    return region.address;
  }

  /** Whether `address` is a live record of this ring in `memory`. */
  owns(memory: Memory, address: bigint): boolean {
    return this.#pending.get(memory)?.has(address) ?? false;
  }

  /**
   * bpf_ringbuf_commit(): clears BUSY (sets DISCARD when discarding), counts the wakeup the kernel would
   * queue, and takes the record's region away from the program.
   */
  commit(memory: Memory, address: bigint, flags: bigint, discard: boolean): void {
    const live = this.#pending.get(memory);
    const rec = live?.get(address);
    if (live === undefined || rec === undefined)
      throw new HelperError('NOT_A_RECORD', `0x${address.toString(16)} is not a live record of ringbuf ${this.name}`);
    live.delete(address);
    const off = rec.pos & this.mask;
    if (rec.scratch) {
      const src = rec.region.bytes;
      const first = this.maxEntries - (off + BPF_RINGBUF_HDR_SZ);
      this.data.set(src.subarray(0, first), off + BPF_RINGBUF_HDR_SZ);
      this.data.set(src.subarray(first), 0);
    }
    let len = this.#view.getUint32(off, true) ^ BPF_RINGBUF_BUSY_BIT;
    if (discard) len |= BPF_RINGBUF_DISCARD_BIT;
    this.#view.setUint32(off, len >>> 0, true);
    revoke(memory, rec.region);
    if ((flags & BigInt(BPF_RB_FORCE_WAKEUP)) !== 0n) this.wakeups.forced++;
    else if ((this.consumerPos & this.mask) === off && (flags & BigInt(BPF_RB_NO_WAKEUP)) === 0n) this.wakeups.commit++;
  }

  /** Flags bpf_ringbuf_output() accepts (it alone checks them; submit/discard ignore unknown bits). */
  static outputFlagsValid(flags: bigint): boolean {
    return (flags & ~BigInt(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) === 0n;
  }

  /** bpf_ringbuf_query(): the selected counter, 0 for an unknown selector. */
  query(flags: bigint): bigint {
    switch (flags) {
      case BigInt(BPF_RB_QUERY.AVAIL_DATA):
        return BigInt(this.availData);
      case BigInt(BPF_RB_QUERY.RING_SIZE):
        return BigInt(this.maxEntries);
      case BigInt(BPF_RB_QUERY.CONS_POS):
        return BigInt(this.consumerPos);
      case BigInt(BPF_RB_QUERY.PROD_POS):
        return BigInt(this.producerPos);
      default:
        return 0n;
    }
  }

  /**
   * The consumer (libbpf ringbuf_process_ring): walks from consumer_pos, stops at the first busy record,
   * skips discarded ones, advances consumer_pos past what it read. Returns copies of the submitted records.
   */
  drain(limit = Number.POSITIVE_INFINITY): RingbufRecord[] {
    const out: RingbufRecord[] = [];
    while (this.consumerPos < this.producerPos && out.length < limit) {
      const off = this.consumerPos & this.mask;
      const hdr = this.#view.getUint32(off, true);
      if (hdr >= BPF_RINGBUF_BUSY_BIT) break;
      const len = hdr & ~BPF_RINGBUF_DISCARD_BIT;
      if ((hdr & BPF_RINGBUF_DISCARD_BIT) === 0)
        out.push({ pos: this.consumerPos, data: this.#read(off + BPF_RINGBUF_HDR_SZ, len) });
      this.consumerPos += span(len);
    }
    return out;
  }

  #read(at: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    const first = Math.min(len, this.maxEntries - at);
    out.set(this.data.subarray(at, at + first));
    if (first < len) out.set(this.data.subarray(0, len - first), first);
    return out;
  }
}

/** Makes a region unusable for loads and stores (the program gave the record back). */
const revoke = (memory: Memory, region: Region): void => {
  if (memory.regions[region.index] !== region) return;
  memory.sizes[region.index] = 0;
  memory.wsizes[region.index] = 0;
};
