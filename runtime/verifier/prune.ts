/**
 * State equivalence for pruning (states_equal / regsafe / stacksafe): a new state is safe when an
 * already fully explored state at the same instruction contains it. An old state's imprecise
 * scalars (precision.ts) match any scalar, in registers and spilled slots alike, unless ranges are
 * compared regardless (RANGE_WITHIN, where a callback's iterations must converge).
 */
import { type Bounds, sameBounds } from './domain/bounds.ts';
import { tnumIn } from './domain/tnum.ts';
import {
  type FuncState,
  isSpilledReg,
  SLOT_SIZE,
  Slot,
  type StackSlot,
  type VerifierState,
  writableSlot,
} from './state/frame.ts';
import { markScalarUnknown, newReg, type RegState } from './state/reg.ts';

/**
 * The old-to-current id pairs met so far in one comparison (bpf_idmap). A state holds few ids, so two
 * parallel arrays searched linearly beat a Map, and one instance is reused (comparisons do not nest).
 */
class IdMap {
  // The first `n` entries are the pairs; the arrays only grow, so clearing allocates nothing.
  private readonly olds: number[] = [];
  private readonly curs: number[] = [];
  private n = 0;

  clear(): IdMap {
    this.n = 0;
    return this;
  }

  /** check_ids: ids must correspond one to one between old and current. */
  check(oldId: number, curId: number): boolean {
    if (!oldId) return true;
    for (let i = 0; i < this.n; i++) if (this.olds[i] === oldId) return this.curs[i] === curId;
    for (let i = 0; i < this.n; i++) if (this.curs[i] === curId) return false;
    this.olds[this.n] = oldId;
    this.curs[this.n] = curId;
    this.n++;
    return true;
  }
}
const idMap = new IdMap();

const checkIds = (oldId: number, curId: number, map: IdMap): boolean => map.check(oldId, curId);

const rangeWithin = (o: Bounds, c: Bounds): boolean =>
  o === c ||
  (o.umin <= c.umin &&
    o.umax >= c.umax &&
    o.smin <= c.smin &&
    o.smax >= c.smax &&
    o.u32min <= c.u32min &&
    o.u32max >= c.u32max &&
    o.s32min <= c.s32min &&
    o.s32max >= c.s32max);

export const regsafe = (o: RegState, c: RegState, ids: IdMap, byRange: boolean): boolean => {
  if (o.type === 'not_init') return true;
  if (c.type === 'not_init') return false;
  if (o.type !== c.type || o.flags !== c.flags) return false;
  if (o.type === 'scalar' && !o.precise && !byRange) return true;
  if (o.type === 'scalar') return rangeWithin(o.b, c.b) && tnumIn(o.b.varOff, c.b.varOff) && checkIds(o.id, c.id, ids);
  if (o.off !== c.off || o.map !== c.map || o.memSize !== c.memSize || o.frameno !== c.frameno) return false;
  if (o.subprogno !== c.subprogno || o.btfName !== c.btfName) return false;
  if ((o.type === 'pkt' || o.type === 'pkt_meta') && o.range > c.range) return false;
  return (
    rangeWithin(o.b, c.b) &&
    tnumIn(o.b.varOff, c.b.varOff) &&
    checkIds(o.id, c.id, ids) &&
    checkIds(o.refObjId, c.refObjId, ids)
  );
};

const isSpilledScalar64 = (s: StackSlot): boolean => s.types[0] === Slot.SPILL && s.spilled.type === 'scalar';
const allMisc = (s: StackSlot): boolean => s.types.every((t) => t === Slot.MISC || t === Slot.INVALID);
const UNKNOWN: RegState = { ...newReg(), type: 'scalar' };

/** Is slot `spi` of frame `frame` live where the states are compared (stack-liveness.ts)? */
export type SlotLive = (frame: number, spi: number) => boolean;

const stacksafe = (o: FuncState, c: FuncState, ids: IdMap, byRange: boolean, live: SlotLive | undefined): boolean => {
  for (let spi = 0; spi < o.stack.length; spi++) {
    const os = o.stack[spi];
    const cs = c.stack[spi];
    if (!os) continue;
    // a slot no path from here reads before writing it matches anything (clean_func_state)
    if (live !== undefined && !live(o.frameno, spi)) continue;
    // A slot both states still share (copy-on-write) has the same byte types; its spill is compared
    // all the same, for the ids it carries.
    if (os === cs) {
      if (isSpilledReg(os) && !regsafe(os.spilled, cs.spilled, ids, byRange)) return false;
      continue;
    }
    // a 64-bit spilled scalar against a slot of unknown bytes reads as an unknown scalar (scalar_reg_for_stack)
    if (cs !== undefined && isSpilledScalar64(os) && allMisc(cs)) {
      if (!regsafe(os.spilled, UNKNOWN, ids, byRange)) return false;
      continue;
    }
    for (let i = 0; i < SLOT_SIZE; i++) {
      const ot = os.types[i];
      if (ot === Slot.INVALID || ot === Slot.MISC) continue;
      const ct = cs?.types[i] ?? Slot.INVALID;
      if (ot !== ct) return false;
    }
    if (isSpilledReg(os) && !regsafe(os.spilled, cs?.spilled ?? newReg(), ids, byRange)) return false;
  }
  return true;
};

const funcStatesEqual = (
  o: FuncState,
  c: FuncState,
  ids: IdMap,
  live: number,
  byRange: boolean,
  slotLive: SlotLive | undefined,
): boolean => {
  if (o.callsite !== c.callsite) return false;
  for (let i = 0; i < 11; i++) {
    if (live & (1 << i) && !regsafe(o.regs[i] as RegState, c.regs[i] as RegState, ids, byRange)) return false;
  }
  return stacksafe(o, c, ids, byRange, slotLive);
};

/**
 * states_equal. `liveAt(frame)` gives the registers live in that frame (at the instruction for the
 * innermost frame, at the pending call for the others); dead registers are not compared.
 * `byRange`: imprecise scalars are compared by range too (RANGE_WITHIN). `slotLive`: which stack slots
 * to compare (all when undefined: a state still being explored is not cleaned).
 */
export const statesEqual = (
  o: VerifierState,
  c: VerifierState,
  liveAt: (frame: number) => number,
  byRange: boolean,
  slotLive?: SlotLive,
): boolean => {
  if (o.frames.length !== c.frames.length) return false;
  if (o.refs.length !== c.refs.length) return false;
  const ids = idMap.clear();
  for (let i = 0; i < o.refs.length; i++) if (!checkIds(o.refs[i]?.id ?? 0, c.refs[i]?.id ?? 0, ids)) return false;
  for (let i = 0; i < o.frames.length; i++) {
    if (!funcStatesEqual(o.frames[i] as FuncState, c.frames[i] as FuncState, ids, liveAt(i), byRange, slotLive))
      return false;
  }
  return true;
};

/** The fields states_maybe_looping compares (those before `frameno`); maps by identity. */
const sameRegHead = (ro: RegState, rc: RegState): boolean =>
  ro.type === rc.type &&
  ro.flags === rc.flags &&
  ro.off === rc.off &&
  ro.id === rc.id &&
  ro.refObjId === rc.refObjId &&
  ro.map === rc.map &&
  ro.range === rc.range &&
  ro.memSize === rc.memSize &&
  sameBounds(ro.b, rc.b);

/** Every field of two registers but the precision mark (regs_exact; a map's contents are not state). */
const sameReg = (ro: RegState, rc: RegState): boolean =>
  sameRegHead(ro, rc) && ro.frameno === rc.frameno && ro.subprogno === rc.subprogno && ro.btfName === rc.btfName;

const sameFrame = (o: FuncState, c: FuncState): boolean =>
  o.frameno === c.frameno &&
  o.subprogno === c.subprogno &&
  o.callsite === c.callsite &&
  o.inCallback === c.inCallback &&
  o.callbackRetRange?.[0] === c.callbackRetRange?.[0] &&
  o.callbackRetRange?.[1] === c.callbackRetRange?.[1] &&
  o.callbackDepth === c.callbackDepth &&
  o.regs.every((r, i) => sameReg(r, c.regs[i] as RegState)) &&
  o.stack.length === c.stack.length &&
  o.stack.every((slot, spi) => {
    const other = c.stack[spi];
    if (slot === undefined || other === undefined) return slot === other;
    return slot.types.every((t, i) => t === other.types[i]) && sameReg(slot.spilled, other.spilled);
  });

/** Exact equality (loop detection). */
export const statesIdentical = (o: VerifierState, c: VerifierState): boolean =>
  o.callbackUnrollDepth === c.callbackUnrollDepth &&
  o.frames.length === c.frames.length &&
  o.refs.length === c.refs.length &&
  o.refs.every((r, i) => r.id === c.refs[i]?.id && r.insnIdx === c.refs[i]?.insnIdx) &&
  o.frames.every((f, i) => sameFrame(f, c.frames[i] as FuncState));

/** states_maybe_looping: the current frame's registers are bit-for-bit those of the old state. */
export const statesMaybeLooping = (o: VerifierState, c: VerifierState): boolean => {
  if (o.frames.length !== c.frames.length) return false;
  const fo = o.frames[o.frames.length - 1] as FuncState;
  const fc = c.frames[c.frames.length - 1] as FuncState;
  for (let i = 0; i < fo.regs.length; i++)
    if (!sameRegHead(fo.regs[i] as RegState, fc.regs[i] as RegState)) return false;
  return true;
};

/** regs_exact: the same register, ids corresponding one to one. */
const regsExact = (o: RegState, c: RegState, ids: IdMap): boolean =>
  sameRegHead({ ...o, id: 0, refObjId: 0 }, { ...c, id: 0, refObjId: 0 }) &&
  checkIds(o.id, c.id, ids) &&
  checkIds(o.refObjId, c.refObjId, ids);

/** maybe_widen_reg: an imprecise scalar that changed since `o` becomes unknown in `c`. */
const maybeWiden = (o: RegState, c: RegState, ids: IdMap): void => {
  if (o.type !== 'scalar' || c.type !== 'scalar') return;
  if (o.precise || c.precise || regsExact(o, c, ids)) return;
  markScalarUnknown(c);
};

/**
 * widen_imprecise_scalars: after a callback iteration, the scalars nothing needs exactly and that
 * changed since the previous iteration's state `old` (a counter in the callback's context) forget
 * their value, so that the iterations converge.
 */
export const widenImpreciseScalars = (old: VerifierState, cur: VerifierState): void => {
  const ids = idMap.clear();
  for (let fr = old.frames.length - 1; fr >= 0; fr--) {
    const fo = old.frames[fr] as FuncState;
    const fc = cur.frames[fr] as FuncState;
    for (let i = 0; i < 11; i++) maybeWiden(fo.regs[i] as RegState, fc.regs[i] as RegState, ids);
    const slots = Math.min(fo.stack.length, fc.stack.length);
    for (let spi = 0; spi < slots; spi++) {
      const so = fo.stack[spi] as StackSlot;
      const sc = fc.stack[spi] as StackSlot;
      if (!isSpilledReg(so) || !isSpilledReg(sc) || so.spilled.type !== 'scalar' || sc.spilled.type !== 'scalar')
        continue;
      if (so.spilled.precise || sc.spilled.precise || regsExact(so.spilled, sc.spilled, ids)) continue;
      markScalarUnknown(writableSlot(fc, spi).spilled);
    }
  }
};
