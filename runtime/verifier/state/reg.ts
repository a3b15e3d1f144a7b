/**
 * Register state: what the verifier knows about one register (struct bpf_reg_state). A pointer is a
 * base type plus flags, a fixed offset `off` and a variable offset in `b` (the same Bounds a scalar
 * uses for its value).
 */
import { type Bounds, cloneBounds, knownBounds, unboundedBounds } from '../domain/bounds.ts';

export type RegBase =
  | 'not_init'
  | 'scalar'
  | 'ctx'
  | 'map_ptr'
  | 'map_value'
  | 'map_key'
  | 'stack'
  | 'pkt'
  | 'pkt_meta'
  | 'pkt_end'
  | 'mem'
  | 'buf'
  | 'btf_id'
  | 'func';

/** Type flags (enum bpf_type_flag), OR-ed together. */
export const RegFlag = {
  MAYBE_NULL: 1,
  RDONLY: 2,
  RINGBUF: 4,
  USER: 8,
  PERCPU: 16,
  RCU: 32,
  UNTRUSTED: 64,
  TRUSTED: 128,
  ALLOC: 256,
} as const;

/** A map the program refers to (by lddw); the name is printed in the log like the kernel does. */
export interface MapDesc {
  readonly name: string;
  /** BPF_MAP_TYPE_* number. */
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** BPF_F_* map flags (BPF_F_RDONLY_PROG = 0x80 makes a read-only map for the program). */
  readonly flags?: number;
  /** Frozen by the loader (libbpf freezes .rodata): with BPF_F_RDONLY_PROG, contents are constants. */
  readonly frozen?: boolean;
  /** Contents of element 0 (global-data maps), for constant strings. */
  readonly data?: Uint8Array;
}

export interface RegState {
  type: RegBase;
  flags: number;
  /** Fixed offset of a pointer (always 0 for scalars, except linked-scalar deltas). */
  off: number;
  /** Value of a scalar, variable offset of a pointer. */
  b: Bounds;
  /** Shared by copies: null checks and range learning propagate through it. */
  id: number;
  /** Non-zero when the register holds an acquired reference. */
  refObjId: number;
  map: MapDesc | undefined;
  /** Packet pointers: bytes proven accessible past the pointer. */
  range: number;
  /** PTR_TO_MEM: size of the region. */
  memSize: number;
  /** PTR_TO_STACK: the frame the pointer points into. */
  frameno: number;
  /** PTR_TO_FUNC: the subprogram. */
  subprogno: number;
  /** PTR_TO_BTF_ID: printed type name. */
  btfName: string;
  precise: boolean;
}

/** A register with every field at its zero value, of `type` with bounds `b` (the one field list). */
const freshReg = (type: RegBase, b: Bounds): RegState => ({
  type,
  flags: 0,
  off: 0,
  b,
  id: 0,
  refObjId: 0,
  map: undefined,
  range: 0,
  memSize: 0,
  frameno: 0,
  subprogno: 0,
  btfName: '',
  precise: false,
});

export const newReg = (): RegState => freshReg('not_init', unboundedBounds());

export const cloneReg = (r: RegState): RegState => ({
  type: r.type,
  flags: r.flags,
  off: r.off,
  b: cloneBounds(r.b),
  id: r.id,
  refObjId: r.refObjId,
  map: r.map,
  range: r.range,
  memSize: r.memSize,
  frameno: r.frameno,
  subprogno: r.subprogno,
  btfName: r.btfName,
  precise: r.precise,
});

/** copy_register_state: dst becomes an exact copy of src. */
export const assignReg = (dst: RegState, src: RegState): void => {
  dst.type = src.type;
  dst.flags = src.flags;
  dst.off = src.off;
  dst.b = cloneBounds(src.b);
  dst.id = src.id;
  dst.refObjId = src.refObjId;
  dst.map = src.map;
  dst.range = src.range;
  dst.memSize = src.memSize;
  dst.frameno = src.frameno;
  dst.subprogno = src.subprogno;
  dst.btfName = src.btfName;
  dst.precise = src.precise;
};

/**
 * Every field of `r` to newReg()'s values, with the given type and bounds (without building a whole
 * register to copy from: these run on most instructions). `b` must be a fresh object: the old one may
 * be shared with a shallow copy of `r`.
 */
const resetReg = (r: RegState, type: RegBase, b: Bounds): void => {
  r.type = type;
  r.flags = 0;
  r.off = 0;
  r.b = b;
  r.id = 0;
  r.refObjId = 0;
  r.map = undefined;
  r.range = 0;
  r.memSize = 0;
  r.frameno = 0;
  r.subprogno = 0;
  r.btfName = '';
  r.precise = false;
};

/** __mark_reg_not_init */
export const markNotInit = (r: RegState): void => {
  resetReg(r, 'not_init', unboundedBounds());
};

/** __mark_reg_unknown (privileged: imprecise); unboundedBounds() is the unknown scalar's. */
export const markScalarUnknown = (r: RegState): void => {
  resetReg(r, 'scalar', unboundedBounds());
};

/** A scalar with a known value. */
export const markScalarConst = (r: RegState, v: bigint): void => {
  resetReg(r, 'scalar', knownBounds(v));
};

/** __mark_reg_known_zero: pointer with zero variable offset (type set by the caller). */
export const markKnownZero = (r: RegState): void => {
  resetReg(r, r.type, knownBounds(0n));
};

export const makeReg = (type: RegBase, init?: Partial<Omit<RegState, 'type' | 'b'>>): RegState => {
  const r = freshReg(type, knownBounds(0n));
  if (init) Object.assign(r, init);
  return r;
};

/** The number of bits a scalar's value may occupy (get_reg_width). */
export const regWidth = (r: RegState): number => {
  const m = r.b.umax;
  return m === 0n ? 0 : m.toString(2).length;
};

/** id flag: this scalar equals its linked registers plus `off` (BPF_ADD_CONST). */
export const ADD_CONST = 0x80000000;

export const isScalar = (r: RegState): boolean => r.type === 'scalar';
export const isPointer = (r: RegState): boolean => r.type !== 'scalar' && r.type !== 'not_init';
export const mayBeNull = (r: RegState): boolean => (r.flags & RegFlag.MAYBE_NULL) !== 0;
export const isPktPointer = (r: RegState): boolean => r.type === 'pkt' || r.type === 'pkt_meta';
export const isPktPointerAny = (r: RegState): boolean => isPktPointer(r) || r.type === 'pkt_end';

const BASE_NAME: Record<RegBase, string> = {
  not_init: '?',
  scalar: 'scalar',
  ctx: 'ctx',
  map_ptr: 'map_ptr',
  map_value: 'map_value',
  map_key: 'map_key',
  stack: 'fp',
  pkt: 'pkt',
  pkt_meta: 'pkt_meta',
  pkt_end: 'pkt_end',
  mem: 'mem',
  buf: 'buf',
  btf_id: 'ptr_',
  func: 'func',
};

/** reg_type_str: e.g. "map_value_or_null", "rdonly_ringbuf_mem", "ptr_or_null_". */
export const regTypeStr = (type: RegBase, flags: number): string => {
  const prefix =
    (flags & RegFlag.RDONLY ? 'rdonly_' : '') +
    (flags & RegFlag.RINGBUF ? 'ringbuf_' : '') +
    (flags & RegFlag.USER ? 'user_' : '') +
    (flags & RegFlag.PERCPU ? 'percpu_' : '') +
    (flags & RegFlag.RCU ? 'rcu_' : '') +
    (flags & RegFlag.UNTRUSTED ? 'untrusted_' : '') +
    (flags & RegFlag.TRUSTED ? 'trusted_' : '');
  const postfix = flags & RegFlag.MAYBE_NULL ? (type === 'btf_id' ? 'or_null_' : '_or_null') : '';
  return `${prefix}${BASE_NAME[type]}${postfix}`;
};
