/**
 * ALU transfer: check_alu_op and adjust_reg_min_max_vals / adjust_ptr_min_max_vals. Scalars go to the
 * scalar domain; pointer arithmetic follows the kernel's rules and messages.
 */
import type { Insn } from '../../../bpf/isa/index.ts';
import { knownBounds, mark32Unbounded, S64_MAX, S64_MIN, syncBounds, U64_MAX, zext32To64 } from '../domain/bounds.ts';
import {
  coerceSubregToSizeSx,
  coerceToSizeSx,
  type ScalarOp,
  scalarAlu,
  scalarAluImm,
  scalarEnd,
  scalarNeg,
} from '../domain/scalar-alu.ts';
import { tnumAdd, tnumIsConst, tnumSub } from '../domain/tnum.ts';
import { markRegPrecise } from '../precision.ts';
import {
  ADD_CONST,
  assignReg,
  isPktPointer,
  markScalarConst,
  markScalarUnknown,
  RegFlag,
  type RegState,
  regTypeStr,
  regWidth,
} from '../state/reg.ts';
import { assignScalarId, checkRegArg, type Env, reg, VerifierError } from './env.ts';

const MAX_VAR_OFF = 1n << 29n;
const OP_STR: Record<string, string> = {
  add: '+=',
  sub: '-=',
  mul: '*=',
  div: '/=',
  sdiv: '/=',
  or: '|=',
  and: '&=',
  lsh: '<<=',
  rsh: '>>=',
  mod: '%=',
  smod: '%=',
  xor: '^=',
  arsh: 's>>=',
};

const checkSaneOffset = (off: RegState, type: () => string): void => {
  const known = tnumIsConst(off.b.varOff);
  const val = BigInt.asIntN(64, off.b.varOff.value);
  if (known && (val >= MAX_VAR_OFF || val <= -MAX_VAR_OFF)) {
    throw new VerifierError(`math between ${type()} pointer and ${val} is not allowed`);
  }
  if (off.off >= Number(MAX_VAR_OFF) || off.off <= -Number(MAX_VAR_OFF)) {
    throw new VerifierError(`${type()} pointer offset ${off.off} is not allowed`);
  }
  if (off.b.smin === S64_MIN) {
    throw new VerifierError(`math between ${type()} pointer and register with unbounded min value is not allowed`);
  }
  if (off.b.smin >= MAX_VAR_OFF || off.b.smin <= -MAX_VAR_OFF) {
    throw new VerifierError(`value ${off.b.smin} makes ${type()} pointer be out of bounds`);
  }
};

/** An integral number inside the s32 range (what BigInt(x) === s32(BigInt(x)) tests, without bigints). */
const fitsS32 = (x: number): boolean => (x | 0) === x;

const addOv = (a: bigint, b: bigint, signed: boolean): bigint | undefined => {
  const r = a + b;
  return (signed ? BigInt.asIntN(64, r) : BigInt.asUintN(64, r)) === r ? r : undefined;
};

/** adjust_ptr_min_max_vals: `ptr op off` into dst (dst may be either operand). */
const ptrArith = (env: Env, insn: Insn, dst: RegState, ptr: RegState, off: RegState, offIsDst: boolean): void => {
  const op = insn.spec.op;
  const d = insn.dst;
  const ob = off.b;
  const known = tnumIsConst(ob.varOff);
  if ((known && (ob.smin !== ob.smax || ob.umin !== ob.umax)) || ob.smin > ob.smax || ob.umin > ob.umax) {
    markScalarUnknown(dst);
    return;
  }
  if (insn.spec.width === 32) {
    if (op === 'sub' && env.privileged) {
      markScalarUnknown(dst);
      return;
    }
    throw new VerifierError(`R${d} 32-bit pointer arithmetic prohibited`);
  }
  // named only in errors: made when one is thrown
  const typeStr = (): string => regTypeStr(ptr.type, ptr.flags);
  if (ptr.flags & RegFlag.MAYBE_NULL)
    throw new VerifierError(`R${d} pointer arithmetic on ${typeStr()} prohibited, null-check it first`);
  switch (ptr.type) {
    case 'ctx':
    case 'map_value':
    case 'map_key':
    case 'stack':
    case 'pkt_meta':
    case 'pkt':
    case 'btf_id':
    case 'mem':
    case 'buf':
    case 'func':
      break;
    case 'map_ptr':
      if (known && ob.smin === 0n && op === 'add') break;
      throw new VerifierError(`R${d} pointer arithmetic on ${typeStr()} prohibited`);
    default:
      throw new VerifierError(`R${d} pointer arithmetic on ${typeStr()} prohibited`);
  }
  const pb = ptr.b;
  const res: RegState = { ...ptr, b: { ...pb } };
  checkSaneOffset(off, typeStr);
  checkSaneOffset(ptr, typeStr);
  mark32Unbounded(res.b);
  const smin = ob.smin;
  switch (op) {
    case 'add': {
      const fixed = ptr.off + Number(smin);
      if (known && fitsS32(fixed)) {
        res.off = fixed;
        break;
      }
      const lo = addOv(pb.smin, ob.smin, true);
      const hi = addOv(pb.smax, ob.smax, true);
      [res.b.smin, res.b.smax] = lo === undefined || hi === undefined ? [S64_MIN, S64_MAX] : [lo, hi];
      const ulo = addOv(pb.umin, ob.umin, false);
      const uhi = addOv(pb.umax, ob.umax, false);
      [res.b.umin, res.b.umax] = ulo === undefined || uhi === undefined ? [0n, U64_MAX] : [ulo, uhi];
      res.b.varOff = tnumAdd(pb.varOff, ob.varOff);
      if (isPktPointer(ptr)) {
        res.id = ++env.idGen;
        res.range = 0;
      }
      break;
    }
    case 'sub': {
      if (offIsDst) throw new VerifierError(`R${d} tried to subtract pointer from scalar`);
      if (ptr.type === 'stack') throw new VerifierError(`R${d} subtraction from stack pointer prohibited`);
      const fixed = ptr.off - Number(smin);
      if (known && fitsS32(fixed)) {
        res.off = fixed;
        break;
      }
      const lo = addOv(pb.smin, -ob.smax, true);
      const hi = addOv(pb.smax, -ob.smin, true);
      [res.b.smin, res.b.smax] = lo === undefined || hi === undefined ? [S64_MIN, S64_MAX] : [lo, hi];
      [res.b.umin, res.b.umax] = pb.umin < ob.umax ? [0n, U64_MAX] : [pb.umin - ob.umax, pb.umax - ob.umin];
      res.b.varOff = tnumSub(pb.varOff, ob.varOff);
      if (isPktPointer(ptr)) {
        res.id = ++env.idGen;
        if (smin < 0n) res.range = 0;
      }
      break;
    }
    case 'and':
    case 'or':
    case 'xor':
      throw new VerifierError(`R${d} bitwise operator ${OP_STR[op]} on pointer prohibited`);
    default:
      throw new VerifierError(`R${d} pointer arithmetic with ${OP_STR[op]} operator prohibited`);
  }
  checkSaneOffset(res, typeStr);
  syncBounds(res.b);
  assignReg(dst, res);
};

/** adjust_reg_min_max_vals for ALU ops other than mov/neg/end. */
const aluBinary = (env: Env, insn: Insn): void => {
  const dst = reg(env, insn.dst);
  const alu32 = insn.spec.width === 32;
  const op = insn.spec.op as ScalarOp;
  let src: RegState | undefined;
  if (insn.spec.source === 'X') {
    src = reg(env, insn.src);
    if (src.type !== 'scalar') {
      if (dst.type !== 'scalar') {
        if (op === 'sub' && env.privileged) {
          markScalarUnknown(dst);
          return;
        }
        throw new VerifierError(`R${insn.dst} pointer ${OP_STR[op]} pointer prohibited`);
      }
      // the scalar becomes the pointer's offset: its value matters from here on
      markRegPrecise(env, insn.dst);
      ptrArith(env, insn, dst, src, dst, true);
      return;
    }
    if (dst.type !== 'scalar') {
      markRegPrecise(env, insn.src);
      ptrArith(env, insn, dst, dst, src, false);
      return;
    }
  } else if (dst.type !== 'scalar') {
    src = { ...dst, type: 'scalar', b: knownBounds(BigInt(insn.imm)), id: 0, off: 0 };
    ptrArith(env, insn, dst, dst, src, false);
    return;
  } else {
    src = undefined;
  }
  if (src) scalarAlu(op, dst.b, src.b, alu32);
  else scalarAluImm(op, dst.b, insn.imm, alu32);
  // A constant added to a linked scalar (an immediate is its 64-bit sign extension).
  let val: bigint | undefined;
  if (op === 'add' && !alu32 && dst.id) {
    if (src === undefined) val = BigInt.asUintN(64, BigInt(insn.imm));
    else if (tnumIsConst(src.b.varOff)) val = src.b.varOff.value;
  }
  if (val !== undefined) {
    if (dst.id & ADD_CONST || val > 0x7fffffffn) {
      dst.off = 0;
      dst.id = 0;
    } else {
      dst.id |= ADD_CONST;
      dst.off = Number(val);
    }
  } else {
    dst.id = 0;
    dst.off = 0;
  }
};

const movReg = (env: Env, insn: Insn): void => {
  const src = reg(env, insn.src);
  const dst = reg(env, insn.dst);
  const off = insn.off;
  if (insn.spec.width === 64) {
    if (off === 0) {
      assignScalarId(env, src);
      assignReg(dst, src);
      return;
    }
    if (src.type !== 'scalar') {
      if (env.privileged) {
        markScalarUnknown(dst);
        return;
      }
      throw new VerifierError(`R${insn.src} sign-extension part of pointer`);
    }
    const noSext = src.b.umax < 1n << BigInt(off - 1);
    if (noSext) assignScalarId(env, src);
    assignReg(dst, src);
    if (!noSext) dst.id = 0;
    coerceToSizeSx(dst.b, off / 8);
    return;
  }
  if (src.type !== 'scalar') {
    if (!env.privileged) throw new VerifierError(`R${insn.src} partial copy of pointer`);
    markScalarUnknown(dst);
  } else if (off === 0) {
    const fits = regWidth(src) <= 32;
    if (fits) assignScalarId(env, src);
    assignReg(dst, src);
    if (!fits) dst.id = 0;
  } else {
    const noSext = src.b.umax < 1n << BigInt(off - 1);
    if (noSext) assignScalarId(env, src);
    assignReg(dst, src);
    if (!noSext) dst.id = 0;
    coerceSubregToSizeSx(dst.b, off / 8);
  }
  zext32To64(dst.b);
  syncBounds(dst.b);
};

/** check_alu_op; field checks were done by checkSlot. */
export const checkAlu = (env: Env, insn: Insn): void => {
  const s = insn.spec;
  if (s.kind === 'neg' || s.kind === 'end') {
    checkRegArg(env, insn.dst, 'src');
    const dst = reg(env, insn.dst);
    if (dst.type !== 'scalar' && !env.privileged) {
      throw new VerifierError(`R${insn.dst} pointer arithmetic prohibited`);
    }
    if (dst.type === 'scalar') {
      checkRegArg(env, insn.dst, 'dst_no_mark');
      if (s.kind === 'neg') scalarNeg(dst.b, s.width === 32);
      else scalarEnd(dst.b, insn.imm as 16 | 32 | 64, s.op === 'bswap' || s.op === 'be');
      dst.id = 0;
    } else {
      checkRegArg(env, insn.dst, 'dst');
    }
    return;
  }
  if (s.op === 'mov' || s.op === 'movsx') {
    if (s.source === 'X') checkRegArg(env, insn.src, 'src');
    checkRegArg(env, insn.dst, 'dst_no_mark');
    if (s.source === 'X') movReg(env, insn);
    else markScalarConst(reg(env, insn.dst), s.width === 64 ? BigInt(insn.imm) : BigInt(insn.imm >>> 0));
    return;
  }
  if (s.source === 'X') checkRegArg(env, insn.src, 'src');
  checkRegArg(env, insn.dst, 'src');
  const op = s.op;
  if ((op === 'div' || op === 'mod' || op === 'sdiv' || op === 'smod') && s.source === 'K' && insn.imm === 0) {
    throw new VerifierError('div by zero', 'EINVAL');
  }
  if ((op === 'lsh' || op === 'rsh' || op === 'arsh') && s.source === 'K') {
    const size = s.width;
    if (insn.imm < 0 || insn.imm >= size) throw new VerifierError(`invalid shift ${insn.imm}`, 'EINVAL');
  }
  checkRegArg(env, insn.dst, 'dst_no_mark');
  aluBinary(env, insn);
};
