/**
 * The loaded image (struct kimage, as far as a reader cares): the final kernel, initrd and cmdline
 * buffers, the segments placed in memory with their sha256 digests, and the digest over all segments
 * that the purgatory checks (kexec_calculate_store_digests). Plain data: it crosses the syscall channel.
 */
import { createHash } from 'node:crypto';
import type { Arch, SegmentPlan } from './arch.ts';
import { sha256Hex, sha256Off } from './digest.ts';
import type { SignatureVerdict } from './keyring.ts';

export interface KimageSegment {
  readonly name: SegmentPlan['name'];
  /** Physical load address. */
  readonly mem: number;
  readonly memsz: number;
  readonly bufsz: number;
  readonly sha256: string;
}

export interface StageReport {
  readonly depth: number;
  /** sha256 of the `.bpf` section the stage ran. */
  readonly sectionSha256: string;
  /** Digest of the program that ran (prog-digest.ts). */
  readonly programDigest: string;
  /** The kexec_bpf_result record the program submitted, when it did (raw bytes). */
  readonly result: Uint8Array | undefined;
}

export interface Kimage {
  readonly type: 'default' | 'crash';
  readonly arch: Arch;
  readonly loader: string;
  readonly kernel: Uint8Array;
  readonly initrd: Uint8Array | undefined;
  /** NUL-terminated, as the kernel keeps it; undefined when none was given or produced. */
  readonly cmdline: Uint8Array | undefined;
  readonly segments: readonly KimageSegment[];
  /** sha256 over every segment buffer in order (the purgatory's digest). */
  readonly digest: string;
  /** sha256 of `kernel` and of `initrd` (a segment's digest when the segment holds those very bytes). */
  readonly kernelSha256: string;
  readonly initrdSha256: string | undefined;
  /** The signature verdict on the file passed in (undefined with the policy off). */
  readonly signature: SignatureVerdict | undefined;
  /** One entry per `.bpf` stage that ran (outermost first). */
  readonly stages: readonly StageReport[];
}

const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.length === b.length;

/** sha256 of `buf`, taken from the placed segment holding exactly these bytes when there is one. */
export const bufferDigest = (
  buf: Uint8Array,
  plan: readonly SegmentPlan[],
  segments: readonly KimageSegment[],
): string => {
  const i = plan.findIndex((p) => sameBytes(p.buf, buf));
  return segments[i]?.sha256 ?? sha256Hex(buf);
};

/**
 * Places the planned segments upwards from `base` and digests them: each segment's own sha256 is taken on
 * the thread pool while this thread takes the purgatory's digest over all of them, so the two passes over
 * the bytes run side by side.
 */
export const placeSegments = async (
  plan: readonly SegmentPlan[],
  base: number,
): Promise<{ segments: KimageSegment[]; digest: string }> => {
  const own = Promise.all(plan.map((p) => sha256Off(p.buf)));
  // a rejected digest is awaited below; until then it must not count as unhandled
  own.catch(() => {});
  const all = createHash('sha256');
  for (const p of plan) all.update(p.buf);
  const digest = all.digest('hex');
  const digests = await own;
  let at = base;
  const segments = plan.map((p, i) => {
    const mem = alignUp(at, p.align);
    at = alignUp(mem + p.memsz, 4096);
    return { name: p.name, mem, memsz: alignUp(p.memsz, 4096), bufsz: p.buf.length, sha256: digests[i] as string };
  });
  return { segments, digest };
};
