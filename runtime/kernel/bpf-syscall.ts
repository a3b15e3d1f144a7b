/**
 * bpf(2) of the model: the commands a kexec parser loader needs. Results are `{ ret }` with ret ≥ 0
 * (an fd, or 0) or -errno, as the syscall returns them; PROG_LOAD adds the verifier log.
 * RINGBUF_CONSUME stands for the consumer side of a ring buffer's mmap (user space reads records).
 */
import { BPF_ATTACH_TYPE, BPF_MAP_TYPE, BPF_PROG_TYPE, E, KEXEC_PE_PARSER_HOOK } from '../../bpf/abi/index.ts';
import { decodeRaw, decodeSlots, IsaError, type RawSlot } from '../../bpf/isa/index.ts';
import { ArrayMap, type BpfMap, createMap, HashMap, HelperError, RingBuf, syscallUpdate } from '../helpers/index.ts';
import { type ProgramPolicy, socketFilter, verify, xdp } from '../verifier/index.ts';
import { kexecParserHook } from '../verifier/policy/prog-types.ts';
import { type KernelObject, type LinkObject, type MapObject, mapDesc, type ProgObject } from './bpf-objects.ts';
import { negErrno } from './errno.ts';
import type { ObjectTable } from './files.ts';
import { canonicalize } from './prog-digest.ts';
import { BPF_F_SLEEPABLE } from './uapi.ts';

export type BpfAttr =
  | {
      readonly cmd: 'MAP_CREATE';
      readonly mapType: number;
      readonly keySize: number;
      readonly valueSize: number;
      readonly maxEntries: number;
      readonly mapFlags?: number;
      readonly name?: string;
    }
  | {
      readonly cmd: 'MAP_UPDATE_ELEM';
      readonly fd: number;
      readonly key: Uint8Array;
      readonly value: Uint8Array;
      readonly flags?: number;
    }
  | { readonly cmd: 'MAP_LOOKUP_ELEM'; readonly fd: number; readonly key: Uint8Array }
  | { readonly cmd: 'MAP_FREEZE'; readonly fd: number }
  | { readonly cmd: 'RINGBUF_CONSUME'; readonly fd: number }
  | {
      readonly cmd: 'PROG_LOAD';
      readonly progType: number;
      /** Little-endian instruction slots; lddw src 1/2 immediates are map fds. */
      readonly insns: Uint8Array;
      readonly license: string;
      readonly logLevel?: number;
      readonly name?: string;
      readonly expectedAttachType?: number;
      /** The traced function's name (the model's stand-in for attach_btf_id). */
      readonly attachTarget?: string;
      readonly progFlags?: number;
      /**
       * func_info reduced to what the verifier reads of it: each subprogram's BTF linkage, in start
       * order (the model's stand-in for prog_btf_fd + func_info; without it callbacks are refused).
       */
      readonly funcInfo?: readonly ('static' | 'global')[];
    }
  | { readonly cmd: 'LINK_CREATE'; readonly progFd: number; readonly attachType: number };

export interface BpfReply {
  /** fd or 0, else -errno. */
  readonly ret: number;
  /** PROG_LOAD: the verifier log at the requested level ('' at level 0, as Linux). */
  readonly log?: string;
  /** MAP_LOOKUP_ELEM: the value. */
  readonly value?: Uint8Array;
  /** RINGBUF_CONSUME: the submitted records, oldest first. */
  readonly records?: readonly Uint8Array[];
}

/** BPF_MAXINSNS for a privileged loader (BPF_COMPLEXITY_LIMIT_INSNS). */
const MAX_INSNS = 1_000_000;
const BPF_OBJ_NAME_LEN = 16;
const ENOTSUPP = 524;

const fail = (errno: number, log = ''): BpfReply => ({ ret: -errno, log });

/** bpf_obj_name_cpy(): [A-Za-z0-9_.], shorter than 16. */
const validName = (name: string): boolean => name.length < BPF_OBJ_NAME_LEN && /^[A-Za-z0-9_.]*$/.test(name);

export class BpfSubsystem {
  readonly #objects: ObjectTable<KernelObject>;
  /** Links to kexec_pe_parser_hook, in attach order. */
  readonly hookLinks: LinkObject[] = [];

  constructor(objects: ObjectTable<KernelObject>) {
    this.#objects = objects;
  }

  call(attr: BpfAttr): BpfReply {
    switch (attr.cmd) {
      case 'MAP_CREATE':
        return this.#mapCreate(attr);
      case 'MAP_UPDATE_ELEM':
        return this.#kvMap(attr.fd, (m, o) => {
          if (o.frozen) return { ret: -E.EPERM };
          if (attr.key.length !== o.keySize || attr.value.length !== o.valueSize) return { ret: -E.EINVAL };
          return { ret: syscallUpdate(m, attr.key, attr.value, attr.flags ?? 0) };
        });
      case 'MAP_LOOKUP_ELEM':
        return this.#kvMap(attr.fd, (m, o) => {
          if (attr.key.length !== o.keySize) return { ret: -E.EINVAL };
          const v = m.lookup(attr.key);
          return v === undefined ? { ret: -E.ENOENT } : { ret: 0, value: v.slice() };
        });
      case 'MAP_FREEZE': {
        const o = this.#map(attr.fd);
        if (typeof o === 'number') return { ret: o };
        if (o.frozen) return { ret: -E.EBUSY };
        o.frozen = true;
        return { ret: 0 };
      }
      case 'RINGBUF_CONSUME': {
        const o = this.#map(attr.fd);
        if (typeof o === 'number') return { ret: o };
        if (!(o.map instanceof RingBuf)) return { ret: -E.EINVAL };
        const records = o.map.drain().map((r) => r.data);
        return { ret: records.length, records };
      }
      case 'PROG_LOAD':
        return this.#progLoad(attr);
      case 'LINK_CREATE':
        return this.#linkCreate(attr);
    }
  }

  /** close() of a link detaches it (the last reference of a bpf_link). */
  onClose(obj: KernelObject): void {
    if (obj.kind !== 'link') return;
    obj.attached = false;
    this.#prune();
  }

  /** The programs attached to the hook now. */
  attached(): LinkObject[] {
    return this.hookLinks.filter((l) => l.attached);
  }

  /** Disarms every hook link (after a stage): their fds stay open, detached. */
  detachAll(): void {
    for (const l of this.hookLinks) l.attached = false;
    this.#prune();
  }

  #prune(): void {
    const live = this.hookLinks.filter((l) => l.attached);
    this.hookLinks.splice(0, this.hookLinks.length, ...live);
  }

  #map(fd: number): MapObject | number {
    const o = this.#objects.get(fd);
    if (o === undefined) return -E.EBADF;
    return o.kind === 'map' ? o : -E.EINVAL;
  }

  #kvMap(fd: number, f: (m: ArrayMap | HashMap, o: MapObject) => BpfReply): BpfReply {
    const o = this.#map(fd);
    if (typeof o === 'number') return { ret: o };
    // ringbuf_map_update_elem / lookup: -ENOTSUPP
    if (!(o.map instanceof ArrayMap || o.map instanceof HashMap)) return { ret: -ENOTSUPP };
    return f(o.map, o);
  }

  #mapCreate(a: Extract<BpfAttr, { cmd: 'MAP_CREATE' }>): BpfReply {
    const name = a.name ?? '';
    if (!validName(name)) return { ret: -E.EINVAL };
    let map: BpfMap;
    try {
      map = createMap(a.mapType, {
        name,
        keySize: a.keySize,
        valueSize: a.valueSize,
        maxEntries: a.maxEntries,
        mapFlags: a.mapFlags ?? 0,
      });
    } catch (e) {
      if (e instanceof HelperError) return { ret: e.errno ?? -E.EINVAL };
      throw e;
    }
    const obj: MapObject = {
      kind: 'map',
      map,
      name,
      type: a.mapType,
      keySize: a.mapType === BPF_MAP_TYPE.RINGBUF ? 0 : a.keySize,
      valueSize: a.mapType === BPF_MAP_TYPE.RINGBUF ? 0 : a.valueSize,
      maxEntries: a.maxEntries,
      flags: a.mapFlags ?? 0,
      frozen: false,
    };
    return { ret: this.#objects.install(obj) };
  }

  #policy(a: Extract<BpfAttr, { cmd: 'PROG_LOAD' }>): ProgramPolicy | string {
    switch (a.progType) {
      case BPF_PROG_TYPE.SOCKET_FILTER:
        return socketFilter;
      case BPF_PROG_TYPE.XDP:
        return xdp;
      case BPF_PROG_TYPE.TRACING:
        if ((a.expectedAttachType ?? 0) !== BPF_ATTACH_TYPE.BPF_TRACE_FENTRY)
          return 'only fentry tracing programs are modelled\n';
        if (a.attachTarget !== KEXEC_PE_PARSER_HOOK.name)
          return `The address of function ${a.attachTarget ?? '(none)'} cannot be found\n`;
        return kexecParserHook;
      default:
        return `program type ${a.progType} is not modelled\n`;
    }
  }

  #progLoad(a: Extract<BpfAttr, { cmd: 'PROG_LOAD' }>): BpfReply {
    const logLevel = a.logLevel ?? 0;
    const withLog = (text: string): string => (logLevel > 0 ? text : '');
    const name = a.name ?? '';
    if (!validName(name)) return fail(E.EINVAL);
    if (a.insns.length === 0 || a.insns.length % 8 !== 0) return fail(E.EINVAL);
    if (a.insns.length / 8 > MAX_INSNS) return fail(E.E2BIG);
    const flags = a.progFlags ?? 0;
    if ((flags & ~BPF_F_SLEEPABLE) !== 0) return fail(E.EINVAL);
    const sleepable = (flags & BPF_F_SLEEPABLE) !== 0;
    const policy = this.#policy(a);
    if (typeof policy === 'string') return fail(E.EINVAL, withLog(policy));
    if (sleepable && policy.progType !== BPF_PROG_TYPE.TRACING)
      return fail(
        E.EINVAL,
        withLog('Only fentry/fexit/fmod_ret, lsm, iter, uprobe, and struct_ops programs can be sleepable\n'),
      );
    const raw: RawSlot[] = decodeSlots(a.insns);
    const c = canonicalize(raw, (fd) => {
      const o = this.#objects.get(fd);
      return o?.kind === 'map' ? o : undefined;
    });
    if ('badSlot' in c) return fail(E.EBADF, withLog(`fd ${c.imm} is not pointing to valid bpf_map\n`));
    const result = verify(c.slots, {
      policy,
      maps: c.used.map(mapDesc),
      logLevel,
      license: a.license,
      sleepable,
      ...(a.funcInfo ? { funcLinkage: a.funcInfo } : {}),
    });
    if (!result.accepted) return { ret: negErrno(result.error?.errno ?? 'EINVAL'), log: withLog(result.log) };
    let insns: ProgObject['insns'];
    try {
      insns = decodeRaw(c.slots);
    } catch (e) {
      if (e instanceof IsaError) return fail(E.EINVAL, withLog(`${e.message}\n`));
      throw e;
    }
    const prog: ProgObject = {
      kind: 'prog',
      name,
      progType: a.progType,
      expectedAttachType: a.expectedAttachType ?? 0,
      attachTarget: policy === kexecParserHook ? KEXEC_PE_PARSER_HOOK.name : '',
      sleepable,
      policy,
      slots: c.slots,
      insns,
      maps: c.used,
      verifierLog: result.log,
    };
    return { ret: this.#objects.install(prog), log: withLog(result.log) };
  }

  #linkCreate(a: Extract<BpfAttr, { cmd: 'LINK_CREATE' }>): BpfReply {
    const o = this.#objects.get(a.progFd);
    if (o === undefined) return { ret: -E.EBADF };
    if (o.kind !== 'prog') return { ret: -E.EINVAL };
    if (o.attachTarget !== KEXEC_PE_PARSER_HOOK.name || a.attachType !== o.expectedAttachType)
      return { ret: -E.EINVAL };
    const link: LinkObject = { kind: 'link', prog: o, hook: o.attachTarget, attached: true };
    this.hookLinks.push(link);
    return { ret: this.#objects.install(link) };
  }
}
