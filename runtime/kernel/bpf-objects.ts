/** The kernel objects bpf(2) hands out fds for: maps, loaded programs, links to the hook. */
import type { Insn, RawSlot } from '../../bpf/isa/index.ts';
import { ArrayMap, type BpfMap } from '../helpers/index.ts';
import type { MapDesc, ProgramPolicy } from '../verifier/index.ts';
import { type CanonicalMap, isGlobalDataShape, programDigest } from './prog-digest.ts';

export interface MapObject {
  readonly kind: 'map';
  readonly map: BpfMap;
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** BPF_MAP_FREEZE: no more syscall writes. */
  frozen: boolean;
}

export interface ProgObject {
  readonly kind: 'prog';
  readonly name: string;
  readonly progType: number;
  readonly expectedAttachType: number;
  /** The attach target's name (tracing programs), '' otherwise. */
  readonly attachTarget: string;
  readonly sleepable: boolean;
  readonly policy: ProgramPolicy;
  /** Slots with map references as first-use indices into `maps` (prog-digest.ts). */
  readonly slots: readonly RawSlot[];
  readonly insns: readonly Insn[];
  readonly maps: readonly MapObject[];
  /** The verifier's log at the requested level. */
  readonly verifierLog: string;
}

export interface LinkObject {
  readonly kind: 'link';
  readonly prog: ProgObject;
  readonly hook: string;
  /** False once the kernel disarmed it after a stage, or its fd was closed. */
  attached: boolean;
}

export type KernelObject = MapObject | ProgObject | LinkObject;

/** What the verifier needs to know of a map (element 0 as constant data of frozen arrays: it reads no other). */
export const mapDesc = (m: MapObject): MapDesc => ({
  name: m.name,
  type: m.type,
  keySize: m.keySize,
  valueSize: m.valueSize,
  maxEntries: m.maxEntries,
  flags: m.flags,
  frozen: m.frozen,
  ...(m.map instanceof ArrayMap && m.frozen ? { data: m.map.element(0).slice() } : {}),
});

const canonicalMap = (m: MapObject): CanonicalMap => ({
  type: m.type,
  keySize: m.keySize,
  valueSize: m.valueSize,
  maxEntries: m.maxEntries,
  flags: m.flags,
  data: isGlobalDataShape(m.type, m.maxEntries) && m.map instanceof ArrayMap ? globalData(m.map) : undefined,
});

/**
 * Element 0 as programDigest hashes it (zero-padded to the value size): a view, as the element can be
 * hundreds of MiB; for a map nothing has written yet, no bytes at all, which hash as the zeros it holds.
 */
const globalData = (map: ArrayMap): Uint8Array => (map.untouched ? NO_BYTES : map.element(0));
const NO_BYTES = new Uint8Array(0);

/** The loaded program's digest now (global data as the maps hold it at this moment). */
export const loadedDigest = (p: ProgObject): string =>
  programDigest({ slots: p.slots, maps: p.maps.map(canonicalMap) });
