/**
 * The identity of a parser program, so the kernel can check that the program a loader attached is the
 * one in the signed `.bpf` section (the review objection that a user-space loader could swap it).
 *
 * Map references differ between the object (libbpf's map index) and the loaded program (fds), so both
 * sides are put in a canonical form first: each lddw map reference (src 1 map, src 2 map value) gets
 * the index of its map in order of first use, and the digest covers the slots, then each used map's
 * type, key/value size, entries and flags — and, for single-element array maps (global data: .rodata,
 * .data, .bss), their contents, which for the object are the section's bytes and for the loaded program
 * what the map holds when the hook fires. sha256 over that.
 */
import { createHash } from 'node:crypto';
import { KEXEC_PE_PARSER_HOOK, progTypeForSection } from '../../bpf/abi/index.ts';
import { readObject } from '../../bpf/elf/index.ts';
import { encodeSlots, type RawSlot } from '../../bpf/isa/index.ts';
import type { MapDesc } from '../verifier/index.ts';
import { linkProgram } from '../verifier/load/object.ts';

const LDDW = 0x18;
const PSEUDO_MAP_FD = 1;
const PSEUDO_MAP_VALUE = 2;
const MAP_TYPE_ARRAY = 2;

export interface CanonicalMap {
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** Element 0 of a single-element array map (hashed as valueSize bytes: zero-padded or cut). */
  readonly data: Uint8Array | undefined;
}

export interface CanonicalProgram {
  readonly slots: readonly RawSlot[];
  readonly maps: readonly CanonicalMap[];
}

/** True for an lddw slot whose immediate names a map (by fd or by index). */
export const isMapLddw = (s: RawSlot): boolean =>
  s.code === LDDW && (s.src === PSEUDO_MAP_FD || s.src === PSEUDO_MAP_VALUE);

/**
 * Rewrites map references to first-use indices. `mapOf(imm)` gives the map an immediate names, or
 * undefined (then the slot index is returned as the error).
 */
export const canonicalize = <M>(
  slots: readonly RawSlot[],
  mapOf: (imm: number) => M | undefined,
): { readonly slots: RawSlot[]; readonly used: M[] } | { readonly badSlot: number; readonly imm: number } => {
  const used: M[] = [];
  const out: RawSlot[] = [];
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i] as RawSlot;
    if (!isMapLddw(s)) {
      out.push(s);
      continue;
    }
    const m = mapOf(s.imm);
    if (m === undefined) return { badSlot: i, imm: s.imm };
    let idx = used.indexOf(m);
    if (idx < 0) idx = used.push(m) - 1;
    out.push({ ...s, imm: idx });
  }
  return { slots: out, used };
};

const u32 = (h: ReturnType<typeof createHash>, v: number): void => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  h.update(b);
};

export const programDigest = (p: CanonicalProgram): string => {
  const h = createHash('sha256');
  const code = encodeSlots(p.slots);
  u32(h, code.length);
  h.update(code);
  u32(h, p.maps.length);
  for (const m of p.maps) {
    for (const v of [m.type, m.keySize, m.valueSize, m.maxEntries, m.flags]) u32(h, v);
    u32(h, m.data ? m.valueSize : 0xffffffff);
    if (m.data) hashSparse(h, m.data, m.valueSize);
  }
  return h.digest('hex');
};

/** Chunk size of hashSparse. */
const CHUNK = 1 << 16;
const ZERO_CHUNK = new Uint8Array(CHUNK);

/**
 * Hashes `size` bytes — `data`, zero-padded or cut to the size — chunk by chunk, an all-zero chunk as
 * one tag byte: parser work buffers are large single-element arrays (up to hundreds of MiB, zero when
 * the hook fires), and comparing with zeros runs at memcmp speed where hashing them cost a third of a
 * second per load; chunks wholly in the padding are zero without being compared (or allocated). The
 * encoding stays one to one.
 */
const hashSparse = (h: ReturnType<typeof createHash>, data: Uint8Array, size: number): void => {
  for (let at = 0; at < size; at += CHUNK) {
    const n = Math.min(CHUNK, size - at);
    if (at >= data.length) {
      // padding only: zero without a look
      h.update(ZERO_TAG);
      continue;
    }
    let chunk = data.subarray(at, at + n);
    if (chunk.length < n) {
      const padded = new Uint8Array(n);
      padded.set(chunk);
      chunk = padded;
    }
    const zero = Buffer.compare(chunk, ZERO_CHUNK.subarray(0, n)) === 0;
    h.update(zero ? ZERO_TAG : DATA_TAG);
    if (!zero) h.update(chunk);
  }
};
const ZERO_TAG = Uint8Array.of(0);
const DATA_TAG = Uint8Array.of(1);

/** Whether a map's contents are part of the program's identity (global data). */
export const isGlobalDataShape = (type: number, maxEntries: number): boolean =>
  type === MAP_TYPE_ARRAY && maxEntries === 1;

const canonicalMapOfDesc = (d: MapDesc): CanonicalMap => ({
  type: d.type,
  keySize: d.keySize,
  valueSize: d.valueSize,
  maxEntries: d.maxEntries,
  flags: d.flags ?? 0,
  data: isGlobalDataShape(d.type, d.maxEntries) ? (d.data ?? new Uint8Array(0)) : undefined,
});

export interface ExpectedProgram {
  readonly name: string;
  readonly section: string;
  readonly digest: string;
}

export class SectionObjectError extends Error {
  override readonly name = 'SectionObjectError';
}

/**
 * The digests of the programs in a `.bpf` section (a BPF ELF object) that attach to the hook.
 * Throws SectionObjectError when the object cannot be read or holds no such program.
 */
export const expectedPrograms = (section: Uint8Array): ExpectedProgram[] => {
  let out: ExpectedProgram[];
  try {
    const obj = readObject(section, { file: '.bpf' });
    out = obj.programs
      .filter((fn) => progTypeForSection(fn.section)?.target === KEXEC_PE_PARSER_HOOK.name)
      .map((fn) => {
        const linked = linkProgram(obj, fn);
        const c = canonicalize(linked.slots, (imm) => linked.maps[imm]);
        if ('badSlot' in c) throw new SectionObjectError(`${fn.name}: slot ${c.badSlot} names no map (${c.imm})`);
        return {
          name: fn.name,
          section: fn.section,
          digest: programDigest({ slots: c.slots, maps: c.used.map(canonicalMapOfDesc) }),
        };
      });
  } catch (e) {
    if (e instanceof SectionObjectError) throw e;
    throw new SectionObjectError(`the .bpf section is not a usable BPF object: ${e instanceof Error ? e.message : e}`);
  }
  if (out.length === 0)
    throw new SectionObjectError(`the .bpf section has no program for ${KEXEC_PE_PARSER_HOOK.section}`);
  return out;
};
