/**
 * The program types we model and their context rules, as the kernel's *_is_valid_access callbacks
 * decide them: socket filter (struct __sk_buff), XDP (struct xdp_md), tracing fentry (an array of u64
 * arguments) and syscall (a user buffer).
 */
import { KEXEC_PE_PARSER_HOOK } from '../../../bpf/abi/index.ts';
import { RegFlag } from '../state/reg.ts';
import type { CtxAccess, CtxLoad, ProgramPolicy } from './types.ts';

const SCALAR: CtxLoad = { kind: 'scalar' };

/** A narrow (1/2-byte) or full load of a 4-byte field at its start (bpf_ctx_narrow_access_ok, LE). */
const u32FieldLoad = (a: CtxAccess, fieldOff: number): boolean =>
  a.off >= fieldOff &&
  a.off + a.size <= fieldOff + 4 &&
  (a.size === 4 || a.size === 2 || a.size === 1) &&
  a.off % a.size === 0;

// struct __sk_buff as a socket filter sees it (sk_filter_is_valid_access / bpf_skb_is_valid_access):
// u32 fields readable whole or narrow, cb[5] also writable, the packet pointers and socket
// addresses hidden, u64 timestamps and the sk pointer not modelled here.
const SKB_SIZE = 192;
const SKB_CB_START = 48;
const SKB_CB_END = 68;
/** Readable u32 field ranges: len..hash, napi_id, gso_segs, gso_size. */
const SKB_READABLE: readonly [number, number][] = [
  [0, 72],
  [84, 88],
  [164, 168],
  [176, 180],
];

const socketFilterAccess = (a: CtxAccess): CtxLoad | undefined => {
  if (a.off < 0 || a.off + a.size > SKB_SIZE || a.off % a.size !== 0) return undefined;
  const inCb = a.off >= SKB_CB_START && a.off + a.size <= SKB_CB_END;
  if (a.write) return inCb ? SCALAR : undefined;
  if (inCb) return SCALAR;
  if (!SKB_READABLE.some(([lo, hi]) => a.off >= lo && a.off < hi)) return undefined;
  return u32FieldLoad(a, a.off - (a.off % 4)) ? SCALAR : undefined;
};

const XDP_FIELDS: readonly [number, CtxLoad][] = [
  [0, { kind: 'pointer', type: 'pkt' }],
  [4, { kind: 'pointer', type: 'pkt_end' }],
  [8, { kind: 'pointer', type: 'pkt_meta' }],
  [12, SCALAR],
  [16, SCALAR],
];

const xdpAccess = (a: CtxAccess): CtxLoad | undefined => {
  // egress_ifindex (offset 20) is only readable by devmap programs.
  if (a.write || a.off < 0 || a.off >= 20 || a.off % a.size !== 0) return undefined;
  const field = XDP_FIELDS.find(([off]) => a.off >= off && a.off < off + 4);
  if (!field) return undefined;
  const [off, load] = field;
  // __is_valid_xdp_access: whole 4-byte fields only, no narrow loads.
  return a.off === off && a.size === 4 ? load : undefined;
};

export const socketFilter: ProgramPolicy = {
  name: 'socket_filter',
  progType: 1,
  ctxAccess: socketFilterAccess,
  retRange: undefined,
  ldAbs: true,
  helpers: 'base',
};

export const xdp: ProgramPolicy = {
  name: 'xdp',
  progType: 6,
  ctxAccess: xdpAccess,
  retRange: undefined,
  ldAbs: false,
  helpers: 'base',
  directPacketAccess: true,
};

/** Argument kinds of a traced function, in order (BTF-typed in the kernel). */
export type TracingArg = { readonly kind: 'scalar' } | { readonly kind: 'btf'; readonly name: string };

/** fentry on `target`: the context is u64 args[n]; only aligned 8-byte reads of existing arguments. */
export const tracingFentry = (args: readonly TracingArg[], target = ''): ProgramPolicy => ({
  name: 'tracing',
  progType: 26,
  ctxAccess: (a) => {
    if (a.write || a.off < 0 || a.off % 8 !== 0 || a.size !== 8) return undefined;
    const arg = args[a.off / 8];
    if (!arg) return undefined;
    return arg.kind === 'scalar'
      ? SCALAR
      : { kind: 'pointer', type: 'btf_id', flags: RegFlag.TRUSTED, btfName: arg.name };
  },
  retRange: [0, 0],
  ldAbs: false,
  helpers: 'tracing',
  attachTarget: target,
});

/** The proposal's hook (bpf/abi hooks.ts): args are the kimage (BTF pointer) and the depth (scalar). */
export const kexecParserHook: ProgramPolicy = tracingFentry(
  KEXEC_PE_PARSER_HOOK.args.map((a) =>
    a.regType === 'SCALAR_VALUE'
      ? { kind: 'scalar' }
      : { kind: 'btf', name: a.cType.replace(/^struct (\w+) \*$/, '$1') },
  ),
  KEXEC_PE_PARSER_HOOK.name,
);

/** syscall programs: the context is a user-supplied buffer (syscall_prog_is_valid_access). */
export const syscall: ProgramPolicy = {
  name: 'syscall',
  progType: 31,
  ctxAccess: (a) => (a.off >= 0 && a.off < 0xffff && a.off % a.size === 0 ? SCALAR : undefined),
  retRange: undefined,
  ldAbs: false,
  helpers: 'tracing',
  ctxRawHelperAccess: true,
};
