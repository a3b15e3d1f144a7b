/**
 * Memory access checks and their transfer (check_mem_access): stack slots with spill/fill, context
 * fields per program type, map values, helper memory and packets; loads, stores and atomics.
 */
import type { Insn } from '../../../bpf/isa/index.ts';
import { s64 } from '../domain/bounds.ts';
import { coerceToSize, coerceToSizeSx } from '../domain/scalar-alu.ts';
import { tnumAdd, tnumConst, tnumIsAligned, tnumIsConst, tnumToString } from '../domain/tnum.ts';
import { markRegPrecise, noteStackAccess } from '../precision.ts';
import {
  ensureSlot,
  type FuncState,
  isSpilledReg,
  MAX_BPF_STACK,
  SLOT_SIZE,
  Slot,
  type SlotType,
  writableSlot,
} from '../state/frame.ts';
import {
  assignReg,
  isPointer,
  makeReg,
  markScalarConst,
  markScalarUnknown,
  RegFlag,
  type RegState,
  regTypeStr,
  regWidth,
} from '../state/reg.ts';
import { assignScalarId, checkRegArg, cur, type Env, noteStackRead, reg, scratchSlot, VerifierError } from './env.ts';

const MAX_VAR_OFF = 1n << 29n;

type Access = 'read' | 'write';

/** check_generic_ptr_alignment with strict alignment (stack accesses are always strict). */
const checkAlignment = (r: RegState, off: number, size: number): void => {
  if (r.type !== 'stack' || size === 1) return;
  const at = tnumAdd(r.b.varOff, tnumConst(BigInt(r.off + off)));
  if (!tnumIsAligned(at, BigInt(size))) {
    const v = tnumIsConst(r.b.varOff) ? BigInt.asIntN(64, r.b.varOff.value).toString() : tnumToString(r.b.varOff);
    throw new VerifierError(`misaligned stack access off ${v}+${r.off}+${off} size ${size}`);
  }
};

/** __check_mem_access: [off, off+size) inside a region of memSize bytes. */
const regionError = (
  r: RegState,
  regno: number,
  off: bigint,
  size: number,
  memSize: number,
  zeroOk: boolean,
): string | undefined => {
  const sizeOk = size > 0 || (size === 0 && zeroOk);
  if (off >= 0n && sizeOk && off + BigInt(size) <= BigInt(memSize)) return undefined;
  switch (r.type) {
    case 'map_key':
      return `invalid access to map key, key_size=${memSize} off=${off} size=${size}`;
    case 'map_value':
      return `invalid access to map value, value_size=${memSize} off=${off} size=${size}`;
    case 'pkt':
    case 'pkt_meta':
    case 'pkt_end':
      return `invalid access to packet, off=${off} size=${size}, R${regno}(id=${r.id},off=${r.off},r=${r.range})`;
    default:
      return `invalid access to memory, mem_size=${memSize} off=${off} size=${size}`;
  }
};

/** check_mem_region_access: both ends of the variable offset must stay in the region. */
export const checkRegion = (
  r: RegState,
  regno: number,
  off: number,
  size: number,
  memSize: number,
  zeroOk = false,
): void => {
  const b = r.b;
  const o = BigInt(off);
  if (b.smin < 0n && (b.smin === -(1n << 63n) || o + b.smin !== BigInt.asIntN(32, o + b.smin) || b.smin + o < 0n)) {
    throw new VerifierError(`R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
  }
  const lo = regionError(r, regno, b.smin + o, size, memSize, zeroOk);
  if (lo) throw new VerifierError(`${lo}\nR${regno} min value is outside of the allowed memory range`);
  if (b.umax >= MAX_VAR_OFF) {
    throw new VerifierError(`R${regno} unbounded memory access, make sure to bounds check any such access`);
  }
  const hi = regionError(r, regno, b.umax + o, size, memSize, zeroOk);
  if (hi) throw new VerifierError(`${hi}\nR${regno} max value is outside of the allowed memory range`);
};

/** BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG */
const MAP_RDONLY_PROG = 0x80;
const MAP_WRONLY_PROG = 0x100;

/** check_map_access_type: read-only / write-only maps as the program sees them. */
export const checkMapAccessType = (r: RegState, regno: number, off: number, size: number, write: boolean): void => {
  const flags = r.map?.flags ?? 0;
  const vs = r.map?.valueSize ?? 0;
  const at = off;
  if (write && flags & MAP_RDONLY_PROG) {
    throw new VerifierError(`write into map forbidden, value_size=${vs} off=${at} size=${size}`);
  }
  if (!write && flags & MAP_WRONLY_PROG) {
    throw new VerifierError(`read from map forbidden, value_size=${vs} off=${at} size=${size}`);
  }
  void regno;
};

/** check_packet_access */
export const checkPacketAccess = (r: RegState, regno: number, off: number, size: number, zeroOk: boolean): void => {
  if (r.b.smin < 0n) {
    throw new VerifierError(`R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
  }
  const err = regionError(r, regno, BigInt(off), size, r.range, zeroOk);
  if (err) throw new VerifierError(`${err}\nR${regno} offset is outside of the packet`);
};

/** check_stack_access_within_bounds */
export const checkStackBounds = (env: Env, r: RegState, regno: number, off: number, size: number, t: Access): void => {
  const extra = t === 'read' ? ' read from' : ' write to';
  let minOff: bigint;
  let maxOff: bigint;
  if (tnumIsConst(r.b.varOff)) {
    minOff = s64(r.b.varOff.value) + BigInt(off);
    maxOff = minOff + BigInt(size);
  } else {
    if (r.b.smax >= MAX_VAR_OFF || r.b.smin <= -MAX_VAR_OFF) {
      throw new VerifierError(`invalid unbounded variable-offset${extra} stack R${regno}`);
    }
    minOff = r.b.smin + BigInt(off);
    maxOff = r.b.smax + BigInt(off + size);
  }
  const minValid = t === 'write' || env.privileged ? -MAX_BPF_STACK : -frameOf(env, r).stack.length * SLOT_SIZE;
  if (minOff < BigInt(minValid) || minOff > -1n || maxOff > 0n) {
    if (tnumIsConst(r.b.varOff)) throw new VerifierError(`invalid${extra} stack R${regno} off=${off} size=${size}`);
    throw new VerifierError(
      `invalid variable-offset${extra} stack R${regno} var_off=${tnumToString(r.b.varOff)} off=${off} size=${size}`,
    );
  }
  // grow_stack_state: the subprogram's stack depth covers every byte ever addressed.
  noteDepth(env, frameOf(env, r), Number(minOff));
};

/** The frame a stack pointer points into (func(env, reg)). */
export const frameOf = (env: Env, r: RegState): FuncState => env.state.frames[r.frameno] ?? cur(env);

export const noteDepth = (env: Env, f: FuncState, off: number): void => {
  const sub = f.subprogno;
  env.stackDepth[sub] = Math.max(env.stackDepth[sub] ?? 0, Math.ceil(-off / SLOT_SIZE) * SLOT_SIZE);
};

/** The byte index inside slot_type for stack byte at offset `at` (negative). */
export const byteIndex = (at: number): number => (-at - 1) % SLOT_SIZE;
export const slotOf = (at: number): number => Math.floor((-at - 1) / SLOT_SIZE);

/** check_stack_write_fixed_off */
export const stackWrite = (
  env: Env,
  f: FuncState,
  off: number,
  size: number,
  value: RegState | undefined,
  imm: number | undefined,
): void => {
  const spi = slotOf(off);
  const slot = writableSlot(f, spi);
  scratchSlot(env, spi);
  noteDepth(env, f, off);
  const aligned = off % SLOT_SIZE === 0;
  // a whole slot of the instruction's own frame: the old contents are dead before it
  if (aligned && size === SLOT_SIZE && f === cur(env)) env.stackLive.write(spi);
  const save = (r: RegState): void => {
    noteStackAccess(env, f.frameno, spi);
    assignReg(slot.spilled, r);
    for (let i = SLOT_SIZE; i > SLOT_SIZE - size; i--) slot.types[i - 1] = Slot.SPILL;
    for (let i = SLOT_SIZE - size; i > 0; i--) {
      const t = slot.types[i - 1] as SlotType;
      if (t === Slot.ZERO || (t === Slot.INVALID && env.privileged)) continue;
      slot.types[i - 1] = Slot.MISC;
    }
  };
  if (value && aligned && value.type === 'scalar' && env.privileged) {
    // the spill and the register stay linked (one id) unless the store narrows the value
    const fits = regWidth(value) <= size * 8;
    if (fits) assignScalarId(env, value);
    save(value);
    if (!fits) slot.spilled.id = 0;
    return;
  }
  if (!value && aligned && imm !== undefined && env.privileged) {
    save(makeScalarConst(BigInt(imm)));
    return;
  }
  if (value && isPointer(value)) {
    if (size !== SLOT_SIZE) throw new VerifierError('invalid size of register spill');
    save(value);
    return;
  }
  let type: SlotType = Slot.MISC;
  slot.spilled = makeReg('not_init');
  if (isSpilledReg(slot)) slot.types = slot.types.map((t) => (t === Slot.INVALID ? t : Slot.MISC));
  const zero = value
    ? value.type === 'scalar' && tnumIsConst(value.b.varOff) && value.b.varOff.value === 0n
    : imm === 0;
  if (zero) {
    type = Slot.ZERO;
    // the register's exact value is not kept in the slot (no spill), so it is relied upon here
    const regno = value ? cur(env).regs.indexOf(value) : -1;
    if (regno >= 0) markRegPrecise(env, regno);
  }
  const top = -off - 1;
  for (let i = 0; i < size; i++) slot.types[(top - i) % SLOT_SIZE] = type;
};

const makeScalarConst = (v: bigint): RegState => {
  const r = makeReg('scalar');
  markScalarConst(r, v);
  return r;
};

/** check_stack_read_fixed_off */
const stackRead = (env: Env, f: FuncState, off: number, size: number, dst: RegState): void => {
  const spi = slotOf(off);
  const slot = ensureSlot(f, spi);
  scratchSlot(env, spi);
  noteStackRead(env, f.frameno, spi);
  const top = -off - 1;
  if (isSpilledReg(slot)) {
    let spillSize = 1;
    for (let i = SLOT_SIZE - 1; i > 0 && slot.types[i - 1] === Slot.SPILL; i--) spillSize++;
    const sp = slot.spilled;
    if (size !== SLOT_SIZE || spillSize !== SLOT_SIZE) {
      if (sp.type !== 'scalar') throw new VerifierError('invalid size of register fill');
      if (size <= spillSize && off % SLOT_SIZE === 0) {
        noteStackAccess(env, f.frameno, spi);
        const width = regWidth(sp);
        // a 4-byte fill of a 4-byte spill links the register to the slot (which then gets an id of its own)
        const links = env.privileged && size === 4 && spillSize === 4 && width <= 32;
        const from = links ? writableSlot(f, spi).spilled : sp;
        if (links) assignScalarId(env, from);
        assignReg(dst, from);
        if (width > size * 8) dst.id = 0;
        return;
      }
      let spills = 0;
      let zeros = 0;
      for (let i = 0; i < size; i++) {
        const t = slot.types[(top - i) % SLOT_SIZE];
        if (t === Slot.SPILL) spills++;
        else if (t === Slot.ZERO) zeros++;
        else if (t === Slot.INVALID && !env.privileged) {
          throw new VerifierError(`invalid read from stack off ${off}+${i} size ${size}`);
        }
      }
      if (spills === size && tnumIsConst(sp.b.varOff) && sp.b.varOff.value === 0n) {
        noteStackAccess(env, f.frameno, spi);
        markScalarConst(dst, 0n);
      } else if (zeros === size) markScalarConst(dst, 0n);
      else markScalarUnknown(dst);
      return;
    }
    noteStackAccess(env, f.frameno, spi);
    assignReg(dst, sp);
    return;
  }
  let zeros = 0;
  for (let i = 0; i < size; i++) {
    const t = slot.types[(top - i) % SLOT_SIZE];
    if (t === Slot.ZERO) zeros++;
    else if (t === Slot.INVALID && !env.privileged) {
      throw new VerifierError(`invalid read from stack off ${off}+${i} size ${size}`);
    }
  }
  if (zeros === size) markScalarConst(dst, 0n);
  else markScalarUnknown(dst);
};

/** check_ptr_off_reg for context pointers. */
const checkCtxOff = (r: RegState, regno: number): void => {
  const t = (): string => regTypeStr(r.type, r.flags);
  if (r.off < 0) throw new VerifierError(`negative offset ${t()} ptr R${regno} off=${r.off} disallowed`);
  if (r.off) throw new VerifierError(`dereference of modified ${t()} ptr R${regno} off=${r.off} disallowed`);
  if (!tnumIsConst(r.b.varOff) || r.b.varOff.value) {
    throw new VerifierError(`variable ${t()} access var_off=${tnumToString(r.b.varOff)} disallowed`);
  }
};

/**
 * check_mem_access: `regno + off` accessed with `size` bytes. For reads, `dst` receives the value;
 * for writes, `value` is the stored register (undefined for BPF_ST, whose immediate is `imm`).
 */
export const checkMemAccess = (
  env: Env,
  regno: number,
  insnOff: number,
  size: number,
  t: Access,
  dst: RegState | undefined,
  value: RegState | undefined,
  imm: number | undefined,
  signExtend = false,
): void => {
  const r = reg(env, regno);
  checkAlignment(r, insnOff, size);
  const off = insnOff + r.off;
  if (r.flags & RegFlag.MAYBE_NULL)
    throw new VerifierError(`R${regno} invalid mem access '${regTypeStr(r.type, r.flags)}'`);
  switch (r.type) {
    case 'map_value':
    case 'map_key': {
      if (t === 'write' && value && isPointer(value) && !env.privileged) {
        throw new VerifierError(`R${value === reg(env, regno) ? regno : regno} leaks addr into map`);
      }
      const m = r.map;
      const memSize = m ? (r.type === 'map_value' ? m.valueSize : m.keySize) : 0;
      if (r.type === 'map_value') checkMapAccessType(r, regno, off, size, t === 'write');
      checkRegion(r, regno, off, size, memSize);
      if (dst) markScalarUnknown(dst);
      break;
    }
    case 'mem': {
      if (t === 'write' && r.flags & RegFlag.RDONLY)
        throw new VerifierError(`R${regno} cannot write into ${regTypeStr(r.type, r.flags)}`);
      checkRegion(r, regno, off, size, r.memSize);
      if (dst) markScalarUnknown(dst);
      break;
    }
    case 'ctx': {
      checkCtxOff(r, regno);
      const load = env.policy.ctxAccess({ off, size, write: t === 'write' });
      if (!load) throw new VerifierError(`invalid bpf_context access off=${off} size=${size}`);
      if (dst) {
        if (load.kind === 'scalar') markScalarUnknown(dst);
        else assignReg(dst, makeReg(load.type, { flags: load.flags ?? 0, btfName: load.btfName ?? '' }));
      }
      break;
    }
    case 'stack': {
      checkStackBounds(env, r, regno, off, size, t);
      if (!tnumIsConst(r.b.varOff)) {
        // Variable-offset stack access: reads give unknown scalars, writes make bytes MISC.
        const lo = Number(r.b.smin) + off;
        const hi = Number(r.b.smax) + off + size;
        const f = frameOf(env, r);
        noteDepth(env, f, lo);
        for (let at = lo; at < hi; at++) {
          if (t === 'read') noteStackRead(env, f.frameno, slotOf(at));
          const slot = t === 'write' ? writableSlot(f, slotOf(at)) : ensureSlot(f, slotOf(at));
          if (t === 'write') {
            slot.types[byteIndex(at)] = Slot.MISC;
            slot.spilled = makeReg('not_init');
          }
        }
        if (dst) markScalarUnknown(dst);
        break;
      }
      const at = Number(s64(r.b.varOff.value)) + off;
      if (t === 'write') stackWrite(env, frameOf(env, r), at, size, value, imm);
      else if (dst) stackRead(env, frameOf(env, r), at, size, dst);
      break;
    }
    case 'pkt':
    case 'pkt_meta': {
      if (t === 'write' && value && isPointer(value) && !env.privileged) {
        throw new VerifierError(`R${regno} leaks addr into packet`);
      }
      checkPacketAccess(r, regno, off, size, false);
      if (dst) markScalarUnknown(dst);
      break;
    }
    default:
      throw new VerifierError(`R${regno} invalid mem access '${regTypeStr(r.type, r.flags)}'`);
  }
  if (dst && size < 8 && dst.type === 'scalar') {
    if (signExtend) coerceToSizeSx(dst.b, size);
    else coerceToSize(dst.b, size);
  }
};

/** LDX */
export const checkLoad = (env: Env, insn: Insn): void => {
  checkRegArg(env, insn.src, 'src');
  checkRegArg(env, insn.dst, 'dst_no_mark');
  const dst = makeReg('not_init');
  checkMemAccess(env, insn.src, insn.off, insn.spec.size, 'read', dst, undefined, undefined, insn.spec.signed);
  assignReg(reg(env, insn.dst), dst);
};

/** STX (plain) and ST */
export const checkStore = (env: Env, insn: Insn): void => {
  if (insn.spec.kind === 'stx') {
    checkRegArg(env, insn.src, 'src');
    checkRegArg(env, insn.dst, 'src');
    checkMemAccess(env, insn.dst, insn.off, insn.spec.size, 'write', undefined, reg(env, insn.src), undefined);
    return;
  }
  checkRegArg(env, insn.dst, 'src');
  checkMemAccess(env, insn.dst, insn.off, insn.spec.size, 'write', undefined, undefined, insn.imm);
};

/** Atomic read-modify-write: checked as a read and a write of the same memory. */
export const checkAtomic = (env: Env, insn: Insn): void => {
  checkRegArg(env, insn.src, 'src');
  checkRegArg(env, insn.dst, 'src');
  if (insn.spec.op === 'cmpxchg') checkRegArg(env, 0, 'src');
  const src = reg(env, insn.src);
  if (isPointer(src)) throw new VerifierError(`R${insn.src} leaks addr into mem`);
  const d = reg(env, insn.dst);
  if (d.type === 'ctx' || d.type === 'pkt' || d.type === 'pkt_meta' || d.type === 'btf_id') {
    throw new VerifierError(`BPF_ATOMIC stores into R${insn.dst} ${regTypeStr(d.type, d.flags)} is not allowed`);
  }
  const fetch = insn.spec.op.startsWith('fetch_') || insn.spec.op === 'xchg' || insn.spec.op === 'cmpxchg';
  const loadReg = insn.spec.op === 'cmpxchg' ? 0 : insn.src;
  const loaded = makeReg('not_init');
  checkMemAccess(env, insn.dst, insn.off, insn.spec.size, 'read', loaded, undefined, undefined);
  // the write side has no value register (value_regno -1): the bytes become STACK_MISC
  checkMemAccess(env, insn.dst, insn.off, insn.spec.size, 'write', undefined, undefined, undefined);
  if (fetch) {
    checkRegArg(env, loadReg, 'dst');
    assignReg(reg(env, loadReg), loaded.type === 'scalar' ? loaded : scalarFrom(insn.spec.size));
  }
};

const makeScalar = (): RegState => {
  const r = makeReg('scalar');
  markScalarUnknown(r);
  return r;
};
const scalarFrom = (size: number): RegState => {
  const r = makeScalar();
  if (size < 8) coerceToSize(r.b, size);
  return r;
};
