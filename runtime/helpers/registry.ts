/**
 * `kexecHelpers()`: the helper registry a kexec parser program runs with — the map and ring-buffer helpers
 * over a MapTable, the three proposed helpers over the boot resources, addons and keyring, and the
 * kernel's ktime_get_ns / trace_printk / get_prandom_u32 / bpf_loop. `nativeHelperHost()` gives the same
 * models to native DSL runs.
 */
import { randomBytes } from 'node:crypto';
import { BPF_FUNC, PROPOSED_HELPER_IDS } from '../../bpf/abi/index.ts';
import type { Certificate } from '../../formats/authenticode/index.ts';
import { prepareDecompressors } from '../../formats/decompress/index.ts';
import { HelperTable } from '../vm/index.ts';
import { type AddonVerifier, authenticodeVerifier } from './addon-verify.ts';
import { ret } from './args.ts';
import { carrierHelper, carrierModel } from './carrier.ts';
import { decompressHelper, decompressModel } from './decompress.ts';
import { type KernelLogSink, NULL_LOG } from './kernel-log.ts';
import { loopHelper } from './loop.ts';
import { mapHelpers } from './map-helpers.ts';
import { MapTable } from './map-table.ts';
import { type KexecResources, ResourceStore } from './resources.ts';
import { ringbufHelpers } from './ringbuf-helpers.ts';
import {
  type AddonStore,
  type SupplementDeps,
  supplementInitrdHelper,
  supplementInitrdModel,
} from './supplement-initrd.ts';
import { traceLine, tracePrintk } from './trace-printk.ts';

export interface KexecHelperOptions {
  /** Maps, ring buffers included (default: none). */
  readonly maps?: MapTable;
  /** The boot resources (default: an empty store). */
  readonly resources?: KexecResources;
  /** Addon files by name (default: none). */
  readonly addons?: AddonStore;
  /** Trusted certificates for addon signatures (default: none, so every signed addon is -ENOKEY). */
  readonly keyring?: readonly Certificate[];
  /** Replaces the Authenticode check of addons (e.g. the simulated kernel's keyrings with a blacklist). */
  readonly verifyAddon?: AddonVerifier;
  readonly log?: KernelLogSink;
  /** bpf_ktime_get_ns: nanoseconds of CLOCK_MONOTONIC (default: the host's monotonic clock). */
  readonly clock?: () => bigint;
  /** bpf_get_prandom_u32 (default: the host's CSPRNG; pass a seeded one for reproducible runs). */
  readonly random?: () => number;
}

/** Loads the decoders that start asynchronously (bzip2); await it once before running programs. */
export const prepareKexecHelpers = (): Promise<void> => prepareDecompressors();

interface Resolved {
  readonly maps: MapTable;
  readonly log: KernelLogSink;
  readonly clock: () => bigint;
  readonly random: () => number;
  readonly supplement: SupplementDeps;
}

const resolve = (o: KexecHelperOptions): Resolved => {
  const log = o.log ?? NULL_LOG;
  return {
    maps: o.maps ?? new MapTable(),
    log,
    clock: o.clock ?? (() => process.hrtime.bigint()),
    random: o.random ?? (() => randomBytes(4).readUInt32LE(0)),
    supplement: {
      resources: o.resources ?? new ResourceStore(),
      addons: o.addons ?? new Map(),
      verify: o.verifyAddon ?? authenticodeVerifier(o.keyring ?? []),
      log,
    },
  };
};

export const kexecHelpers = (o: KexecHelperOptions = {}): HelperTable => {
  const r = resolve(o);
  return new HelperTable([
    ...mapHelpers(r.maps),
    ...ringbufHelpers(r.maps),
    [BPF_FUNC.ktime_get_ns, (env) => ret(env, BigInt.asUintN(64, r.clock()))],
    [BPF_FUNC.get_prandom_u32, (env) => ret(env, r.random() >>> 0)],
    [BPF_FUNC.loop, loopHelper],
    [
      BPF_FUNC.trace_printk,
      (env) => {
        const text = tracePrintk(env);
        if (typeof text === 'string') r.log.trace(traceLine(text));
        ret(env, typeof text === 'string' ? Buffer.byteLength(text, 'latin1') : text);
      },
    ],
    [PROPOSED_HELPER_IDS.bpf_helper_carrier, carrierHelper(r.supplement.resources, r.log)],
    [PROPOSED_HELPER_IDS.bpf_helper_decompress, decompressHelper(r.log)],
    [PROPOSED_HELPER_IDS.bpf_helper_supplement_initrd, supplementInitrdHelper(r.supplement)],
  ]);
};

/**
 * The helper models for native DSL runs: the shape of compiler/dsl's `HelperHost` (install it with
 * `setHelperHost`), over the same resources, addons and verifier as `kexecHelpers`. Buffers are the
 * program's own bytes, already cut to the size argument by the DSL.
 */
export interface NativeHelperHost {
  carrier(name: string, buf: Uint8Array | null, size: number, dir: number): number;
  decompress(src: Uint8Array, dst: Uint8Array): number;
  supplementInitrd(dstDir: string, addon: Uint8Array): number;
  ktimeGetNs(): bigint;
  getPrandomU32(): number;
}

export const nativeHelperHost = (o: KexecHelperOptions = {}): NativeHelperHost => {
  const r = resolve(o);
  const carrier = carrierModel(r.supplement.resources, r.log);
  const decompress = decompressModel(r.log);
  const supplement = supplementInitrdModel(r.supplement);
  return {
    carrier: (name, buf, size, dir) =>
      carrier({
        name,
        size,
        dir: BigInt(dir),
        buffer: () => {
          if (buf === null || buf.length < size) throw new RangeError(`carrier: no ${size}-byte buffer`);
          return buf;
        },
      }),
    decompress: (src, dst) => decompress(src, dst),
    supplementInitrd: (dstDir, addon) => supplement(dstDir, addon),
    ktimeGetNs: () => BigInt.asUintN(64, r.clock()),
    getPrandomU32: () => r.random() >>> 0,
  };
};
