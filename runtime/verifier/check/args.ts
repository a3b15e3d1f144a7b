/**
 * Helper arguments (check_func_arg): each register against its prototype type, in the kernel's order
 * and words — type compatibility (check_reg_type), offsets (check_func_arg_reg_off), memory the helper
 * reads or writes (check_helper_mem_access, check_stack_range_initialized), size arguments
 * (check_mem_size_reg), constant strings (check_reg_const_str) and reference bookkeeping.
 */
import { type ArgBase, type HelperProto, resolveArg, type TypeFlag } from '../../../bpf/abi/index.ts';
import { s64, u64 } from '../domain/bounds.ts';
import { tnumIsConst, tnumToString } from '../domain/tnum.ts';
import { markRegPrecise, markSlotPrecise } from '../precision.ts';
import { ensureSlot, isSpilledReg, SLOT_SIZE, Slot, writableSlot } from '../state/frame.ts';
import {
  isPktPointer,
  isPointer,
  type MapDesc,
  markScalarUnknown,
  type RegBase,
  RegFlag,
  type RegState,
  regTypeStr,
} from '../state/reg.ts';
import { checkRegArg, type Env, noteStackRead, reg, scratchSlot, VerifierError } from './env.ts';
import {
  checkMapAccessType,
  checkMemAccess,
  checkPacketAccess,
  checkRegion,
  checkStackBounds,
  frameOf,
} from './mem.ts';

/** struct bpf_call_arg_meta: what the arguments tell about the call. */
export interface CallMeta {
  mapPtr: MapDesc | undefined;
  rawMode: boolean;
  /** Uninitialised stack bytes the helper fills (raw mode): marked written after the argument checks. */
  accessSize: number;
  regno: number;
  refObjId: number;
  releaseRegno: number;
  memSize: number;
  msizeMaxValue: bigint;
  subprogno: number | undefined;
  /** The constant string of an ARG_PTR_TO_CONST_STR argument. */
  constStr: string | undefined;
  /** The key of an array-map lookup when it is a known constant (-1 otherwise). */
  constMapKey: bigint;
}

export const newCallMeta = (): CallMeta => ({
  mapPtr: undefined,
  rawMode: false,
  accessSize: 0,
  regno: 0,
  refObjId: 0,
  releaseRegno: 0,
  memSize: 0,
  msizeMaxValue: 0n,
  subprogno: undefined,
  constStr: undefined,
  constMapKey: -1n,
});

/** BPF_MAX_VAR_SIZ */
const MAX_VAR_SIZ = 1n << 29n;
/** BPF_F_RDONLY_PROG */
export const MAP_F_RDONLY_PROG = 0x80;
const MAP_TYPE_ARRAY = 2;

export const registerIsNull = (r: RegState): boolean =>
  r.type === 'scalar' && tnumIsConst(r.b.varOff) && r.b.varOff.value === 0n;

interface KType {
  readonly type: RegBase;
  readonly flags: number;
}
const T = (type: RegBase, flags = 0): KType => ({ type, flags });

const MEM_TYPES: readonly KType[] = [
  T('stack'),
  T('pkt'),
  T('pkt_meta'),
  T('map_key'),
  T('map_value'),
  T('mem'),
  T('mem', RegFlag.RINGBUF),
  T('buf'),
  T('btf_id', RegFlag.TRUSTED),
];

/** compatible_reg_types for the argument kinds the prototypes in bpf/abi use. */
const COMPATIBLE: Partial<Record<ArgBase, readonly KType[]>> = {
  ARG_PTR_TO_MAP_KEY: MEM_TYPES,
  ARG_PTR_TO_MAP_VALUE: MEM_TYPES,
  ARG_CONST_SIZE: [T('scalar')],
  ARG_CONST_SIZE_OR_ZERO: [T('scalar')],
  ARG_CONST_ALLOC_SIZE_OR_ZERO: [T('scalar')],
  ARG_CONST_MAP_PTR: [T('map_ptr')],
  ARG_PTR_TO_CTX: [T('ctx')],
  ARG_PTR_TO_MEM: MEM_TYPES,
  ARG_PTR_TO_RINGBUF_MEM: [T('mem', RegFlag.RINGBUF)],
  ARG_PTR_TO_FUNC: [T('func')],
  ARG_PTR_TO_STACK: [T('stack')],
  ARG_PTR_TO_CONST_STR: [T('map_value')],
};

const flagBit: Partial<Record<TypeFlag, number>> = { PTR_MAYBE_NULL: RegFlag.MAYBE_NULL, MEM_RDONLY: RegFlag.RDONLY };

/** check_reg_type */
const checkRegType = (r: RegState, regno: number, base: ArgBase, flags: ReadonlySet<TypeFlag>): void => {
  const compatible = COMPATIBLE[base];
  if (!compatible)
    throw new VerifierError(`helper argument type ${base} is not modelled by this verifier yet`, 'ENOTSUPP');
  let f = r.flags;
  for (const fl of ['MEM_RDONLY', 'PTR_MAYBE_NULL'] as const) if (flags.has(fl)) f &= ~(flagBit[fl] ?? 0);
  if (compatible.some((k) => k.type === r.type && k.flags === f)) return;
  const expected = compatible.map((k) => regTypeStr(k.type, k.flags)).join(', ');
  throw new VerifierError(`R${regno} type=${regTypeStr(r.type, r.flags)} expected=${expected}`);
};

/** __check_ptr_off_reg */
export const checkPtrOffReg = (r: RegState, regno: number, fixedOffOk: boolean): void => {
  const t = (): string => regTypeStr(r.type, r.flags);
  if (r.off < 0) throw new VerifierError(`negative offset ${t()} ptr R${regno} off=${r.off} disallowed`);
  if (!fixedOffOk && r.off)
    throw new VerifierError(`dereference of modified ${t()} ptr R${regno} off=${r.off} disallowed`);
  if (!tnumIsConst(r.b.varOff) || r.b.varOff.value) {
    throw new VerifierError(`variable ${t()} access var_off=${tnumToString(r.b.varOff)} disallowed`);
  }
};

/** check_func_arg_reg_off */
const checkArgRegOff = (r: RegState, regno: number, release: boolean): void => {
  if (release) {
    if (r.off) {
      throw new VerifierError(
        `R${regno} must have zero offset when passed to release func or trusted arg to kfunc`,
        'EINVAL',
      );
    }
    checkPtrOffReg(r, regno, false);
    return;
  }
  switch (r.type) {
    case 'stack':
    case 'pkt':
    case 'pkt_meta':
    case 'map_key':
    case 'map_value':
    case 'mem':
    case 'buf':
    case 'scalar':
      return;
    case 'btf_id':
      checkPtrOffReg(r, regno, true);
      return;
    default:
      checkPtrOffReg(r, regno, false);
  }
};

/** check_stack_range_initialized: every byte the helper may read must be initialised. */
const checkStackRange = (
  env: Env,
  regno: number,
  off: number,
  size: number,
  zeroOk: boolean,
  write: boolean,
  meta: CallMeta | undefined,
): void => {
  const r = reg(env, regno);
  if (size === 0 && !zeroOk) throw new VerifierError('invalid zero-sized read');
  checkStackBounds(env, r, regno, off, size, write ? 'write' : 'read');
  const f = frameOf(env, r);
  const constOff = tnumIsConst(r.b.varOff);
  let minOff: number;
  let maxOff: number;
  let m = meta;
  if (constOff) {
    minOff = maxOff = Number(s64(r.b.varOff.value)) + off;
  } else {
    // Uninitialised memory cannot be filled through a variable offset.
    if (m?.rawMode) m = undefined;
    minOff = Number(r.b.smin) + off;
    maxOff = Number(r.b.smax) + off;
  }
  if (m?.rawMode) {
    m.accessSize = size;
    m.regno = regno;
    return;
  }
  for (let i = minOff; i < maxOff + size; i++) {
    const at = -i - 1;
    const spi = Math.floor(at / SLOT_SIZE);
    const slot = ensureSlot(f, spi);
    const idx = at % SLOT_SIZE;
    noteStackRead(env, f.frameno, spi);
    const t = slot.types[idx];
    if (t === Slot.MISC) continue;
    if (t === Slot.ZERO || (t === Slot.INVALID && env.privileged)) {
      if (write) {
        writableSlot(f, spi).types[idx] = Slot.MISC;
        scratchSlot(env, spi);
      }
      continue;
    }
    if (isSpilledReg(slot) && (slot.spilled.type === 'scalar' || env.privileged)) {
      if (write) {
        const own = writableSlot(f, spi);
        markScalarUnknown(own.spilled);
        own.types = own.types.map((x) => (x === Slot.INVALID ? x : Slot.MISC));
        scratchSlot(env, spi);
      }
      continue;
    }
    if (constOff) throw new VerifierError(`invalid read from stack R${regno} off ${minOff}+${i - minOff} size ${size}`);
    throw new VerifierError(
      `invalid read from stack R${regno} var_off ${tnumToString(r.b.varOff)}+${i - minOff} size ${size}`,
    );
  }
};

/** check_helper_mem_access: [reg, reg + size) is memory the helper may read (or write). */
export const checkHelperMemAccess = (
  env: Env,
  regno: number,
  size: number,
  write: boolean,
  zeroOk: boolean,
  meta: CallMeta | undefined,
): void => {
  const r = reg(env, regno);
  const typeStr = (): string => regTypeStr(r.type, r.flags);
  switch (r.type) {
    case 'pkt':
    case 'pkt_meta':
      checkPacketAccess(r, regno, r.off, size, zeroOk);
      return;
    case 'map_key':
      if (write) throw new VerifierError(`R${regno} cannot write into ${typeStr()}`);
      checkRegion(r, regno, r.off, size, r.map?.keySize ?? 0, zeroOk);
      return;
    case 'map_value':
      checkMapAccessType(r, regno, r.off, size, write);
      checkRegion(r, regno, r.off, size, r.map?.valueSize ?? 0, zeroOk);
      return;
    case 'mem':
      if (write && r.flags & RegFlag.RDONLY) throw new VerifierError(`R${regno} cannot write into ${typeStr()}`);
      checkRegion(r, regno, r.off, size, r.memSize, zeroOk);
      return;
    case 'stack':
      checkStackRange(env, regno, r.off, size, zeroOk, write, meta);
      return;
    case 'btf_id':
      throw new VerifierError('helper access to BTF-typed memory is not modelled by this verifier yet', 'ENOTSUPP');
    case 'ctx':
      if (env.policy.ctxRawHelperAccess) {
        if (size === 0) {
          if (zeroOk) return;
          throw new VerifierError('', 'EACCES');
        }
        checkMemAccess(env, regno, size - 1, 1, write ? 'write' : 'read', undefined, undefined, undefined);
        return;
      }
      break;
    default:
      break;
  }
  if (zeroOk && size === 0 && registerIsNull(r)) return;
  throw new VerifierError(`R${regno} type=${typeStr()} expected=${regTypeStr('stack', 0)}`);
};

/** check_mem_size_reg: a size argument bounds the memory argument before it. */
const checkMemSizeReg = (env: Env, regno: number, write: boolean, zeroOk: boolean, meta: CallMeta): void => {
  const r = reg(env, regno);
  meta.msizeMaxValue = r.b.umax;
  const m = tnumIsConst(r.b.varOff) ? meta : undefined;
  if (r.b.smin < 0n) {
    throw new VerifierError(`R${regno} min value is negative, either use unsigned or 'var &= const'`);
  }
  if (r.b.umin === 0n && !zeroOk) {
    throw new VerifierError(`R${regno} invalid zero-sized read: u64=[${s64(r.b.umin)},${s64(r.b.umax)}]`);
  }
  if (r.b.umax >= MAX_VAR_SIZ) {
    throw new VerifierError(`R${regno} unbounded memory access, use 'var &= const' or 'if (var < const)'`);
  }
  checkHelperMemAccess(env, regno - 1, Number(r.b.umax), write, zeroOk, m);
  markRegPrecise(env, regno);
};

/** check_reg_const_str: a NUL-terminated string in a frozen read-only array map. */
const checkRegConstStr = (env: Env, regno: number, meta: CallMeta): void => {
  const r = reg(env, regno);
  const map = r.map;
  if (r.type !== 'map_value' || !map) throw new VerifierError('', 'EINVAL');
  if (!((map.flags ?? 0) & MAP_F_RDONLY_PROG) || !map.frozen) {
    throw new VerifierError(`R${regno} does not point to a readonly map'`);
  }
  if (!tnumIsConst(r.b.varOff)) throw new VerifierError(`R${regno} is not a constant address'`);
  if (map.type !== MAP_TYPE_ARRAY) throw new VerifierError('no direct value access support for this map type');
  checkRegion(r, regno, r.off, map.valueSize - r.off, map.valueSize, false);
  const at = r.off + Number(u64(r.b.varOff.value));
  const bytes = (map.data ?? new Uint8Array(map.valueSize)).subarray(at, map.valueSize);
  const nul = bytes.indexOf(0);
  if (nul < 0) throw new VerifierError('string is not zero-terminated', 'EINVAL');
  meta.constStr = new TextDecoder().decode(bytes.subarray(0, nul));
};

/** Array maps: a lookup with a constant in-range key cannot fail (can_elide_value_nullness). */
const ELIDE_NULLNESS = new Set([2, 6]);

/** get_constant_map_key: the key's value when the stack holds a known constant of the key's size. */
const constantMapKey = (env: Env, key: RegState, keySize: number): bigint => {
  if (!env.privileged || key.type !== 'stack' || !tnumIsConst(key.b.varOff)) return -1n;
  const at = key.off + Number(s64(key.b.varOff.value));
  const pos = -at - 1;
  const slot = ensureSlot(frameOf(env, key), Math.floor(pos / SLOT_SIZE));
  const off = pos % SLOT_SIZE;
  let zeros = 0;
  for (let i = off; i >= 0 && slot.types[i] === Slot.ZERO; i--) zeros++;
  if (zeros >= keySize) return 0n;
  if (!isSpilledReg(slot) || slot.spilled.type !== 'scalar') return -1n;
  let spill = 0;
  for (let i = off; i >= 0 && slot.types[i] === Slot.SPILL; i--) spill++;
  if (spill !== keySize || !tnumIsConst(slot.spilled.b.varOff)) return -1n;
  // the lookup's result depends on this constant
  markSlotPrecise(env, key.frameno, Math.floor(pos / SLOT_SIZE));
  return slot.spilled.b.varOff.value;
};

/** check_func_arg for argument `arg` (0-based) of `fn`. */
export const checkFuncArg = (env: Env, arg: number, meta: CallMeta, fn: HelperProto): void => {
  const argType = fn.args[arg];
  if (!argType) return;
  const regno = arg + 1;
  checkRegArg(env, regno, 'src');
  const r = reg(env, regno);
  const { base, flags } = resolveArg(argType);
  if (base === 'ARG_ANYTHING') {
    if (isPointer(r) && !env.privileged) throw new VerifierError(`R${regno} leaks addr into helper function`);
    return;
  }
  if (isPktPointer(r) && !(env.policy.directPacketAccess && fn.pktAccess)) {
    throw new VerifierError('helper access to the packet is not allowed');
  }
  const release = flags.has('OBJ_RELEASE');
  if (!(registerIsNull(r) && flags.has('PTR_MAYBE_NULL'))) {
    checkRegType(r, regno, base, flags);
    checkArgRegOff(r, regno, release);
  }
  if (release) {
    if (!r.refObjId && !registerIsNull(r)) {
      throw new VerifierError(`R${regno} must be referenced when passed to release function`, 'EINVAL');
    }
    meta.releaseRegno = regno;
  }
  if (r.refObjId) {
    if (meta.refObjId) {
      // The kernel prints this one without a newline.
      throw new VerifierError(`more than one arg with ref_obj_id R${regno} ${r.refObjId} ${meta.refObjId}`);
    }
    meta.refObjId = r.refObjId;
  }
  const writes = (i: number): boolean => {
    const prev = fn.args[i];
    return prev !== undefined && resolveArg(prev).flags.has('MEM_WRITE');
  };
  switch (base) {
    case 'ARG_CONST_MAP_PTR':
      meta.mapPtr = r.map;
      break;
    case 'ARG_PTR_TO_MAP_KEY':
      if (!meta.mapPtr) throw new VerifierError('invalid map_ptr to access map->key', 'EFAULT');
      checkHelperMemAccess(env, regno, meta.mapPtr.keySize, false, false, undefined);
      if (ELIDE_NULLNESS.has(meta.mapPtr.type)) meta.constMapKey = constantMapKey(env, r, meta.mapPtr.keySize);
      break;
    case 'ARG_PTR_TO_MAP_VALUE':
      if (flags.has('PTR_MAYBE_NULL') && registerIsNull(r)) return;
      if (!meta.mapPtr) throw new VerifierError('invalid map_ptr to access map->value', 'EFAULT');
      meta.rawMode = flags.has('MEM_UNINIT');
      checkHelperMemAccess(env, regno, meta.mapPtr.valueSize, flags.has('MEM_WRITE'), false, meta);
      break;
    case 'ARG_PTR_TO_FUNC':
      meta.subprogno = r.subprogno;
      break;
    case 'ARG_PTR_TO_MEM':
      meta.rawMode = flags.has('MEM_UNINIT');
      break;
    case 'ARG_CONST_SIZE':
      checkMemSizeReg(env, regno, writes(arg - 1), false, meta);
      break;
    case 'ARG_CONST_SIZE_OR_ZERO':
      checkMemSizeReg(env, regno, writes(arg - 1), true, meta);
      break;
    case 'ARG_CONST_ALLOC_SIZE_OR_ZERO':
      if (!tnumIsConst(r.b.varOff)) throw new VerifierError(`R${regno} is not a known constant'`);
      meta.memSize = Number(r.b.varOff.value);
      markRegPrecise(env, regno);
      break;
    case 'ARG_PTR_TO_CONST_STR':
      checkRegConstStr(env, regno, meta);
      break;
    default:
      break;
  }
};
