/**
 * Conditional jumps (check_cond_jmp_op): operand checks, branch prediction, refinement of both
 * successors, null-check propagation by id, and linked scalars sharing an id.
 */
import type { Insn } from '../../../bpf/isa/index.ts';
import { knownBounds } from '../domain/bounds.ts';
import { type Cond, flipCond, isRegConst, regConst, scalarBranchTaken, setMinMax } from '../domain/branch.ts';
import { addBounds } from '../domain/scalar-alu.ts';
import { markRegPrecise, pushHistory } from '../precision.ts';
import {
  cloneState,
  curFrame,
  isSpilledReg,
  type LinkedReg,
  updateRegs,
  type VerifierState,
  writableSlot,
} from '../state/frame.ts';
import { ADD_CONST, assignReg, isPktPointerAny, isPointer, mayBeNull, RegFlag, type RegState } from '../state/reg.ts';
import { checkRegArg, type Env, reg, VerifierError } from './env.ts';

/** Does the pointer compare unequal to zero for sure (reg_not_null)? */
const notNull = (r: RegState): boolean =>
  !mayBeNull(r) &&
  (r.type === 'stack' ||
    r.type === 'ctx' ||
    r.type === 'map_value' ||
    r.type === 'map_key' ||
    r.type === 'func' ||
    (r.type === 'mem' && !(r.flags & RegFlag.MAYBE_NULL)));

/** Packet pointer ranges proven against pkt_end (reg->range markers AT_PKT_END / BEYOND_PKT_END). */
const AT_PKT_END = -1;
const BEYOND_PKT_END = -2;
const MAX_PACKET_OFF = 0xffffn;

/** is_pkt_ptr_branch_taken */
const pktBranchTaken = (dst: RegState, src: RegState, op: Cond): 1 | 0 | -1 => {
  let pkt: RegState;
  if (src.type === 'pkt_end') pkt = dst;
  else if (dst.type === 'pkt_end') {
    pkt = src;
    op = flipCond(op);
  } else return -1;
  if (pkt.range >= 0) return -1;
  if ((op === 'jle' || op === 'jgt') && pkt.range === BEYOND_PKT_END) return op === 'jgt' ? 1 : 0;
  if ((op === 'jlt' || op === 'jge') && (pkt.range === BEYOND_PKT_END || pkt.range === AT_PKT_END)) {
    return op === 'jge' ? 1 : 0;
  }
  return -1;
};

/** find_good_pkt_pointers: every copy of `ptr` (same id) may access `ptr.off` bytes. */
const findGoodPktPointers = (s: VerifierState, ptr: RegState, rightOpen: boolean): void => {
  if (ptr.off < 0 || (ptr.off === 0 && rightOpen)) return;
  if (ptr.b.umax > MAX_PACKET_OFF || ptr.b.umax + BigInt(ptr.off) > MAX_PACKET_OFF) return;
  const range = ptr.off + (rightOpen ? 1 : 0);
  updateRegs(
    s,
    (r) => r.type === ptr.type && r.id === ptr.id,
    (r) => {
      r.range = Math.max(r.range, range);
    },
  );
};

/** mark_pkt_end: the pointer is at (or beyond) pkt_end on this branch. */
const markPktEnd = (s: VerifierState, regno: number, beyond: boolean): void => {
  const r = curFrame(s).regs[regno] as RegState;
  if (r.type === 'pkt') r.range = beyond ? BEYOND_PKT_END : AT_PKT_END;
};

const isInitPkt = (r: RegState): boolean =>
  r.type === 'pkt' && r.off === 0 && r.b.varOff.mask === 0n && r.b.varOff.value === 0n;

/**
 * try_match_pkt_pointers: `pkt' op pkt_end` (and meta/pkt) comparisons grant ranges. `fall` is the
 * fall-through state, `taken` the jump target's.
 */
const matchPktPointers = (
  insn: Insn,
  dst: RegState,
  src: RegState,
  fall: VerifierState,
  taken: VerifierState,
): boolean => {
  if (insn.spec.source !== 'X' || insn.spec.width === 32) return false;
  const fwd = (dst.type === 'pkt' && src.type === 'pkt_end') || (dst.type === 'pkt_meta' && isInitPkt(src));
  const rev = (dst.type === 'pkt_end' && src.type === 'pkt') || (isInitPkt(dst) && src.type === 'pkt_meta');
  if (!fwd && !rev) return false;
  const d = insn.dst;
  const sr = insn.src;
  switch (insn.spec.op) {
    case 'jgt':
      if (fwd) {
        findGoodPktPointers(fall, dst, false);
        markPktEnd(taken, d, true);
      } else {
        findGoodPktPointers(taken, src, true);
        markPktEnd(fall, sr, false);
      }
      return true;
    case 'jlt':
      if (fwd) {
        findGoodPktPointers(taken, dst, true);
        markPktEnd(fall, d, false);
      } else {
        findGoodPktPointers(fall, src, false);
        markPktEnd(taken, sr, true);
      }
      return true;
    case 'jge':
      if (fwd) {
        findGoodPktPointers(fall, dst, true);
        markPktEnd(taken, d, false);
      } else {
        findGoodPktPointers(taken, src, false);
        markPktEnd(fall, sr, true);
      }
      return true;
    case 'jle':
      if (fwd) {
        findGoodPktPointers(taken, dst, false);
        markPktEnd(fall, d, true);
      } else {
        findGoodPktPointers(fall, src, true);
        markPktEnd(taken, sr, false);
      }
      return true;
    default:
      return false;
  }
};

/** is_branch_taken for any operands: 1, 0, or -1 (unknown). */
const branchTaken = (r1: RegState, r2: RegState, op: Cond, w32: boolean): 1 | 0 | -1 => {
  if (isPktPointerAny(r1) && isPktPointerAny(r2) && !w32) return pktBranchTaken(r1, r2, op);
  if (isPointer(r1) || isPointer(r2)) {
    let a = r1;
    let b = r2;
    if (!(b.type === 'scalar' && isRegConst(b.b, w32))) {
      op = flipCond(op);
      [a, b] = [b, a];
    }
    if (!(b.type === 'scalar' && isRegConst(b.b, w32))) return -1;
    if (!notNull(a)) return -1;
    if (regConst(b.b, w32) !== 0n) return -1;
    return op === 'jeq' ? 0 : op === 'jne' ? 1 : -1;
  }
  return scalarBranchTaken(r1.b, r2.b, op, w32);
};

/** mark_ptr_or_null_regs: every copy of the pointer (same id) becomes non-null or a scalar 0. */
const markPtrOrNull = (s: VerifierState, id: number, refObjId: number, isNull: boolean): void => {
  if (refObjId && refObjId === id && isNull) s.refs = s.refs.filter((r) => r.id !== id);
  updateRegs(
    s,
    (r) => mayBeNull(r) && r.id === id,
    (r) => {
      if (isNull) {
        r.type = 'scalar';
        r.flags = 0;
        r.id = 0;
        r.refObjId = 0;
        r.map = undefined;
        r.b = knownBounds(0n);
        return;
      }
      r.flags &= ~RegFlag.MAYBE_NULL;
      r.id = 0;
    },
  );
};

/** sync_linked_regs: scalars sharing `known`'s id take its refined range (plus their delta). */
const syncLinked = (s: VerifierState, known: RegState): void => {
  const base = known.id & ~ADD_CONST;
  updateRegs(
    s,
    (r) => r !== known && r.type === 'scalar' && (r.id & ~ADD_CONST) === base,
    (r) => {
      const { id, off } = r;
      assignReg(r, known);
      r.id = id;
      r.off = off;
      if (!((!(id & ADD_CONST) && !(known.id & ADD_CONST)) || off === known.off)) {
        addBounds(r.b, knownBounds(BigInt(off - known.off)));
      }
    },
  );
};

/** LINKED_REGS_MAX: how many linked scalars one jump records; the others lose their link. */
const LINKED_REGS_MAX = 6;

/** collect_linked_regs: the live scalars of every frame sharing `id`'s base, for the jump history. */
const collectLinked = (env: Env, id: number, out: LinkedReg[]): void => {
  const base = id & ~ADD_CONST;
  const frames = env.state.frames;
  const take = (r: RegState, frameno: number, isReg: boolean, index: number): void => {
    if (r.type !== 'scalar' || (r.id & ~ADD_CONST) !== base) return;
    if (out.length < LINKED_REGS_MAX) out.push({ frameno, isReg, index });
    else r.id = 0;
  };
  for (let fi = frames.length - 1; fi >= 0; fi--) {
    const f = frames[fi] as (typeof frames)[number];
    const at = fi === frames.length - 1 ? env.insnIdx : (frames[fi + 1]?.callsite ?? env.insnIdx);
    const live = env.live[at] ?? 0x7ff;
    for (let r = 0; r < 10; r++) if (live & (1 << r)) take(f.regs[r] as RegState, fi, true, r);
    for (let spi = 0; spi < f.stack.length; spi++) {
      const slot = f.stack[spi];
      if (!slot || !isSpilledReg(slot) || slot.spilled.type !== 'scalar' || (slot.spilled.id & ~ADD_CONST) !== base)
        continue;
      take(out.length < LINKED_REGS_MAX ? slot.spilled : writableSlot(f, spi).spilled, fi, false, spi);
    }
  }
};

export interface JumpOutcome {
  /** The state for the taken edge to be explored later, if both edges are feasible. */
  readonly other: VerifierState | undefined;
  /** Where the current path continues. */
  readonly next: number;
}

/** Processes a conditional jump at env.insnIdx; the current state becomes the fall-through (or taken) edge. */
export const checkCondJmp = (env: Env, insn: Insn): JumpOutcome => {
  const w32 = insn.spec.width === 32;
  const op = insn.spec.op as Cond;
  const target = env.insnIdx + insn.off + 1;
  checkRegArg(env, insn.dst, 'src');
  const dst = reg(env, insn.dst);
  let src: RegState;
  if (insn.spec.source === 'X') {
    checkRegArg(env, insn.src, 'src');
    src = reg(env, insn.src);
    const pktPair =
      (dst.type === 'pkt' || dst.type === 'pkt_meta' || dst.type === 'pkt_end') &&
      (src.type === 'pkt' || src.type === 'pkt_meta' || src.type === 'pkt_end');
    if (!pktPair && isPointer(src) && !env.privileged) {
      throw new VerifierError(`R${insn.src} pointer comparison prohibited`);
    }
  } else {
    src = {
      ...dst,
      type: 'scalar',
      flags: 0,
      id: 0,
      refObjId: 0,
      off: 0,
      map: undefined,
      b: knownBounds(BigInt(insn.imm)),
    };
  }
  const pred = branchTaken(dst, src, op, w32);
  if (pred >= 0) {
    // the verifier relied on the operands' values to drop a branch: they must stay exact
    if (dst.type === 'scalar') markRegPrecise(env, insn.dst);
    if (insn.spec.source === 'X' && src.type === 'scalar') markRegPrecise(env, insn.src);
    return { other: undefined, next: pred === 1 ? target : env.insnIdx + 1 };
  }

  // both successors share this record, so precision found on either reaches every linked scalar
  const linked: LinkedReg[] = [];
  if (insn.spec.source === 'X' && src.type === 'scalar' && src.id) collectLinked(env, src.id, linked);
  if (dst.type === 'scalar' && dst.id) collectLinked(env, dst.id, linked);
  if (linked.length > 1) pushHistory(env, 0, linked);

  const other = cloneState(env.state);
  const oregs = curFrame(other).regs;
  const odst = oregs[insn.dst] as RegState;
  if (dst.type === 'scalar' && src.type === 'scalar') {
    if (insn.spec.source === 'X') {
      const osrc = oregs[insn.src] as RegState;
      setMinMax(odst.b, osrc.b, dst.b, src.b, op, w32);
    } else {
      const t2 = { ...src.b };
      const f2 = { ...src.b };
      setMinMax(odst.b, t2, dst.b, f2, op, w32);
    }
    if (insn.spec.source === 'X' && src.id) {
      syncLinked(env.state, src);
      syncLinked(other, oregs[insn.src] as RegState);
    }
    if (dst.id) {
      syncLinked(env.state, dst);
      syncLinked(other, odst);
    }
  }
  if (!w32 && insn.spec.source === 'K' && insn.imm === 0 && (op === 'jeq' || op === 'jne') && mayBeNull(dst)) {
    const { id, refObjId } = dst;
    markPtrOrNull(env.state, id, refObjId, op === 'jne');
    markPtrOrNull(other, id, refObjId, op === 'jeq');
  } else if (!matchPktPointers(insn, { ...dst }, { ...src }, env.state, other) && isPointer(dst) && !env.privileged) {
    throw new VerifierError(`R${insn.dst} pointer comparison prohibited`);
  }
  return { other, next: env.insnIdx + 1 };
};
