/**
 * The RFC's stage loop (decompose_kexec_image in v6's terms, with the RFC's handshake): while the
 * kernel resource is a PE with a `.bpf` section, expose the section in procfs, signal eventfd A, wait
 * for eventfd B, check that every program attached to kexec_pe_parser_hook is the signed section's
 * (prog-digest.ts), run them in runtime/vm with runtime/helpers, disarm, and — when the programs
 * replaced the kernel resource — go one level deeper.
 */
import { createHash } from 'node:crypto';
import { E, KEXEC_MAX_DEPTH, KEXEC_PE_PARSER_HOOK, RESULT_RINGBUF } from '../../bpf/abi/index.ts';
import { findSection, readPe, sectionData } from '../../formats/pe/index.ts';
import {
  type AddonVerifier,
  decodeKexecResult,
  type KernelLogSink,
  kexecHelpers,
  MapTable,
  type ResourceStore,
  RingBuf,
} from '../helpers/index.ts';
import { Memory, Vm, VmError } from '../vm/index.ts';
import { type LinkObject, loadedDigest } from './bpf-objects.ts';
import type { BpfSubsystem } from './bpf-syscall.ts';
import { EventfdError, eventfdSignal, eventfdWait } from './eventfd.ts';
import type { StageReport } from './kimage.ts';
import type { Printk } from './klog.ts';
import type { ProcFs } from './procfs.ts';
import { type ExpectedProgram, expectedPrograms, SectionObjectError } from './prog-digest.ts';

export const BPF_SECTION = '.bpf';
/** The opaque `struct kimage *` a program sees in ctx[0]: an address no VM region has. */
export const KIMAGE_HANDLE = 0xffffc880_00000000n;
/** Instruction budget of one program run. */
export const STAGE_MAX_INSNS = 50_000_000;

export interface Handshake {
  /** The kernel's references to the loader's eventfds. */
  readonly eventA: number;
  readonly eventB: number;
}

export interface DecomposeDeps {
  readonly resources: ResourceStore;
  readonly bpf: BpfSubsystem;
  readonly procfs: ProcFs;
  readonly handshake: Handshake | undefined;
  readonly timeoutMs: number;
  readonly addons: ReadonlyMap<string, Uint8Array>;
  readonly verifyAddon: AddonVerifier;
  readonly helperLog: KernelLogSink;
  readonly log: Printk;
}

export interface DecomposeOutcome {
  readonly errno: number;
  readonly stages: readonly StageReport[];
}

/** The `.bpf` section of a PE image, or undefined when the buffer is not a PE or has none. */
export const bpfSectionOf = (buf: Uint8Array | undefined): Uint8Array | undefined => {
  if (buf === undefined || buf.length < 2 || buf[0] !== 0x4d || buf[1] !== 0x5a) return undefined;
  try {
    const img = readPe(buf);
    const s = findSection(img, BPF_SECTION);
    return s === undefined ? undefined : sectionData(img, s);
  } catch {
    // not a well-formed PE: nothing to decompose, the arch probe decides
    return undefined;
  }
};

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Reads the result record without consuming it (user space still drains it). */
const peekResult = (link: LinkObject): Uint8Array | undefined => {
  const rb = link.prog.maps.find((m) => m.name === RESULT_RINGBUF && m.map instanceof RingBuf)?.map;
  if (!(rb instanceof RingBuf)) return undefined;
  const at = rb.consumerPos;
  const records = rb.drain();
  rb.consumerPos = at;
  return records.at(-1)?.data;
};

const runProgram = (link: LinkObject, depth: number, d: DecomposeDeps): number => {
  const memory = new Memory();
  const maps = new MapTable();
  for (const m of link.prog.maps) maps.add(m.map);
  const helpers = kexecHelpers({
    maps,
    resources: d.resources,
    addons: d.addons,
    verifyAddon: d.verifyAddon,
    log: d.helperLog,
  });
  const ctx = new Uint8Array(16);
  const view = new DataView(ctx.buffer);
  view.setBigUint64(0, KIMAGE_HANDLE, true);
  view.setBigUint64(8, BigInt(depth), true);
  try {
    const vm = new Vm(link.prog.insns, {
      helpers,
      memory,
      resolveLddw: maps.resolver(memory),
      maxInsns: STAGE_MAX_INSNS,
    });
    const { insns } = vm.run({ mem: ctx, memKind: 'ctx' });
    d.log('debug', `depth ${depth}: ${link.prog.name || 'parser'} ran ${insns} insns`);
    return 0;
  } catch (e) {
    if (e instanceof VmError) {
      d.log('err', `depth ${depth}: the parser program faulted: ${e.message}`);
      return -E.EFAULT;
    }
    throw e;
  }
};

/** One stage: handshake, digest check, run. 0 or -errno. */
const stage = async (
  section: Uint8Array,
  expected: readonly ExpectedProgram[],
  depth: number,
  d: DecomposeDeps,
  reports: StageReport[],
): Promise<number> => {
  const hs = d.handshake;
  if (hs === undefined) {
    d.log('err', `depth ${depth}: the image has a ${BPF_SECTION} section but no loader registered its eventfds`);
    return -E.EAGAIN;
  }
  d.bpf.detachAll();
  d.procfs.publish(section);
  d.log(
    'info',
    `depth ${depth}: ${BPF_SECTION} (${section.length} bytes) exposed at ${d.procfs.bpfProg}; waiting for the loader`,
  );
  let signalled: boolean;
  try {
    eventfdSignal(hs.eventA);
    signalled = await eventfdWait(hs.eventB, d.timeoutMs);
  } catch (e) {
    if (!(e instanceof EventfdError)) throw e;
    d.log('err', `depth ${depth}: the handshake failed: ${e.message}`);
    return -E.EIO;
  } finally {
    d.procfs.withdraw();
  }
  if (!signalled) {
    d.log('err', `depth ${depth}: the loader did not answer within ${d.timeoutMs} ms`);
    return -E.ETIMEDOUT;
  }
  const links = d.bpf.attached();
  if (links.length === 0) {
    d.log('err', `depth ${depth}: no program is attached to ${KEXEC_PE_PARSER_HOOK.name}`);
    return -E.ENOENT;
  }
  const digests = links.map((l) => loadedDigest(l.prog));
  const allowed = new Set(expected.map((e) => e.digest));
  const bad = digests.findIndex((g) => !allowed.has(g));
  if (bad >= 0) {
    d.log(
      'err',
      `depth ${depth}: the program attached to ${KEXEC_PE_PARSER_HOOK.name} is not the signed ${BPF_SECTION} section's (digest ${digests[bad]?.slice(0, 16)}…, expected ${expected.map((e) => e.digest.slice(0, 16)).join(' or ')}…)`,
    );
    return -E.EPERM;
  }
  for (const [i, link] of links.entries()) {
    const errno = runProgram(link, depth, d);
    if (errno !== 0) return errno;
    const result = peekResult(link);
    reports.push({ depth, sectionSha256: sha256(section), programDigest: digests[i] as string, result });
    if (result === undefined && link.prog.maps.some((m) => m.name === RESULT_RINGBUF)) {
      // A parser of our ABI reports every outcome; none means it ended early (a failed bounds check
      // returns the fault value), so the resources may be half-built: refuse them.
      d.log('err', `depth ${depth}: the parser submitted no ${RESULT_RINGBUF} record: its resources are not used`);
      return -E.EBADMSG;
    }
    if (result !== undefined) {
      try {
        const r = decodeKexecResult(result);
        d.log(
          'info',
          `depth ${depth}: parser result ${r.format || '?'} status ${r.status}${r.detail ? ` (${r.detail})` : ''}`,
        );
        if (r.status < 0) return r.status;
      } catch (e) {
        d.log('warning', `depth ${depth}: ${e instanceof Error ? e.message : e}`);
      }
    }
  }
  return 0;
};

export const decompose = async (d: DecomposeDeps): Promise<DecomposeOutcome> => {
  const stages: StageReport[] = [];
  try {
    for (let depth = 0; ; depth++) {
      const section = bpfSectionOf(d.resources.get('kernel'));
      if (section === undefined) return { errno: 0, stages };
      if (depth >= KEXEC_MAX_DEPTH) {
        d.log('err', `PE images nested deeper than ${KEXEC_MAX_DEPTH}`);
        return { errno: -E.ELOOP, stages };
      }
      let expected: ExpectedProgram[];
      try {
        expected = expectedPrograms(section);
      } catch (e) {
        if (!(e instanceof SectionObjectError)) throw e;
        d.log('err', `depth ${depth}: ${e.message}`);
        return { errno: -E.ENOEXEC, stages };
      }
      const before = d.resources.get('kernel');
      const errno = await stage(section, expected, depth, d, stages);
      if (errno !== 0) return { errno, stages };
      d.bpf.detachAll();
      // only a kernel the stage produced is looked at again (an untouched PE would repeat forever)
      if (d.resources.get('kernel') === before) return { errno: 0, stages };
    }
  } finally {
    d.bpf.detachAll();
  }
};
