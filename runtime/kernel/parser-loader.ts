/**
 * The user-space half, libbpf-style: turn the `.bpf` bytes read from procfs into a program attached to
 * kexec_pe_parser_hook, through bpf() calls only — create the object's maps (global data filled, .rodata
 * frozen, the addon-name map filled with the addon names), put the map fds into the lddw immediates,
 * PROG_LOAD, LINK_CREATE. Works over a SyscallClient (a loader thread) or a Kernel directly.
 * Everything it created is closed again when a step fails.
 */
import { ADDON_MAP, KEXEC_PE_PARSER_HOOK, progTypeForSection } from '../../bpf/abi/index.ts';
import { readObject } from '../../bpf/elf/index.ts';
import { encodeSlots } from '../../bpf/isa/index.ts';
import type { MapDesc } from '../verifier/index.ts';
import { linkProgram } from '../verifier/load/object.ts';
import type { BpfAttr, BpfReply } from './bpf-syscall.ts';
import { isMapLddw } from './prog-digest.ts';
import { BPF_F_SLEEPABLE } from './uapi.ts';

export interface BpfCaller {
  bpf(attr: BpfAttr): BpfReply;
  close(fd: number): number;
}

export interface LoadedParser {
  readonly progFd: number;
  readonly linkFd: number;
  /** Map fds by map name. */
  readonly mapFds: ReadonlyMap<string, number>;
  readonly log: string;
}

export interface LoadFailure {
  /** Which step failed. */
  readonly step: 'object' | 'map' | 'prog' | 'link';
  /** -errno (0 for 'object': not a usable object). */
  readonly errno: number;
  readonly message: string;
  /** The verifier log for 'prog'. */
  readonly log: string;
}

export interface LoadOptions {
  readonly logLevel?: number;
  /** Names for the addon-name map, in order. */
  readonly addons?: readonly string[];
}

const u32le = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
};

/** bpf_obj_name_cpy() accepts [A-Za-z0-9_.] below 16 bytes. */
const objName = (n: string): string => n.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, 15);

export const loadParser = (sys: BpfCaller, object: Uint8Array, o: LoadOptions = {}): LoadedParser | LoadFailure => {
  const created: number[] = [];
  const fail = (step: LoadFailure['step'], errno: number, message: string, log = ''): LoadFailure => {
    for (const fd of created.reverse()) sys.close(fd);
    return { step, errno, message, log };
  };
  let linked: ReturnType<typeof linkProgram>;
  try {
    const obj = readObject(object, { file: 'bpf_prog' });
    const fn = obj.programs.find((p) => progTypeForSection(p.section)?.target === KEXEC_PE_PARSER_HOOK.name);
    if (fn === undefined) return fail('object', 0, `no program in SEC("${KEXEC_PE_PARSER_HOOK.section}")`);
    linked = linkProgram(obj, fn);
  } catch (e) {
    return fail('object', 0, e instanceof Error ? e.message : String(e));
  }
  const match = linked.match;
  if (match === undefined) return fail('object', 0, `unknown section ${linked.section}`);
  const mapFds = new Map<string, number>();
  const fds: number[] = [];
  for (const m of linked.maps) {
    const r = createMap(sys, m, o.addons ?? []);
    if (r.fd < 0) return fail('map', r.fd, `map ${m.name}: ${r.why}`);
    created.push(r.fd);
    fds.push(r.fd);
    mapFds.set(m.name, r.fd);
  }
  const slots = linked.slots.map((s) => (isMapLddw(s) ? { ...s, imm: fds[s.imm] ?? -1 } : s));
  const prog = sys.bpf({
    cmd: 'PROG_LOAD',
    progType: match.progTypeId,
    insns: encodeSlots(slots),
    license: linked.license,
    logLevel: o.logLevel ?? 1,
    name: objName(linked.name),
    expectedAttachType: match.expectedAttachTypeId,
    attachTarget: match.target,
    progFlags: match.sleepable ? BPF_F_SLEEPABLE : 0,
    ...(linked.funcLinkage ? { funcInfo: linked.funcLinkage } : {}),
  });
  if (prog.ret < 0) return fail('prog', prog.ret, 'the verifier rejected the program', prog.log ?? '');
  created.push(prog.ret);
  const link = sys.bpf({ cmd: 'LINK_CREATE', progFd: prog.ret, attachType: match.expectedAttachTypeId });
  if (link.ret < 0) return fail('link', link.ret, `attach to ${KEXEC_PE_PARSER_HOOK.name}`);
  return { progFd: prog.ret, linkFd: link.ret, mapFds, log: prog.log ?? '' };
};

const createMap = (sys: BpfCaller, m: MapDesc, addons: readonly string[]): { fd: number; why: string } => {
  const r = sys.bpf({
    cmd: 'MAP_CREATE',
    mapType: m.type,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    mapFlags: m.flags ?? 0,
    name: objName(m.name),
  });
  if (r.ret < 0) return { fd: r.ret, why: 'MAP_CREATE' };
  const fd = r.ret;
  const update = (key: number, value: Uint8Array): number =>
    sys.bpf({ cmd: 'MAP_UPDATE_ELEM', fd, key: u32le(key), value, flags: 0 }).ret;
  const undo = (errno: number, why: string) => {
    sys.close(fd);
    return { fd: errno, why };
  };
  if (m.data !== undefined && m.data.length > 0) {
    const value = new Uint8Array(m.valueSize);
    value.set(m.data.subarray(0, m.valueSize));
    const u = update(0, value);
    if (u < 0) return undo(u, 'MAP_UPDATE_ELEM of its initial data');
  }
  if (m.name === ADDON_MAP.name) {
    for (const [i, name] of addons.entries()) {
      const value = new Uint8Array(m.valueSize);
      value.set(Buffer.from(name, 'latin1').subarray(0, m.valueSize - 1));
      const u = update(i, value);
      if (u < 0) return undo(u, `MAP_UPDATE_ELEM of addon ${i}`);
    }
  }
  if (m.frozen) {
    const f = sys.bpf({ cmd: 'MAP_FREEZE', fd }).ret;
    if (f < 0) return undo(f, 'MAP_FREEZE');
  }
  return { fd, why: '' };
};
