/**
 * Scalar precision tracking, as the kernel does it (mark_chain_precision and backtrack_insn).
 * Scalars start imprecise; where a scalar's exact value decides something (a branch the verifier
 * resolved, pointer arithmetic, a size or constant argument, a checked return value), the path is
 * walked backwards through the current state's jump history and then its parent checkpoints, marking
 * every register and spilled slot the value was computed from as precise in those checkpoints.
 * Pruning (prune.ts) compares an old state's imprecise scalars by type only. When a path is pruned,
 * the old state's precise scalars are pushed back into the pruned path's checkpoints in the same way
 * (propagate_precision). What backtracking cannot follow falls back to marking every scalar precise.
 */
import { AluOp, Class, classOf, JmpOp, Mask, Mode, Source } from '../../bpf/isa/index.ts';
import { type Env, VerifierError } from './check/env.ts';
import { frameToString, insnText } from './log/print.ts';
import type { VerifierLog } from './log/writer.ts';
import { isCallbackCall, isPseudoCall, type ProgSlot } from './program.ts';
import type { SlotLive } from './prune.ts';
import {
  type FuncState,
  HistEntry,
  isSpilledReg,
  type LinkedReg,
  MAX_CALL_FRAMES,
  type VerifierState,
  writableSlot,
} from './state/frame.ts';
import type { RegState } from './state/reg.ts';

/** jmp_history flags: a stack slot was spilled to or filled from (INSN_F_STACK_ACCESS). */
const STACK_ACCESS = 1 << 3;
const FRAMENO_MASK = 0x7;
const SPI_SHIFT = 4;
const SPI_MASK = 0x3f;
const REGS_ARGS = 0x3e;
const BPF_LOAD_ACQ = 0x100;

const stackAccessFlags = (frameno: number, spi: number): number => STACK_ACCESS | (spi << SPI_SHIFT) | frameno;

/**
 * push_jmp_history: records the current instruction (reached from the state's last instruction) with
 * `flags` and `linked`; a second record for the same instruction merges into the first.
 */
export const pushHistory = (env: Env, flags: number, linked?: readonly LinkedReg[]): void => {
  const cur = env.curHist;
  if (cur !== undefined) {
    cur.flags |= flags;
    if (linked !== undefined) cur.linked = linked;
    return;
  }
  const e = new HistEntry(env.insnIdx, env.state.lastIdx, flags, linked);
  env.state.history.push(e);
  env.curHist = e;
};

/** A fixed-offset spill to, or fill from, slot `spi` of frame `frameno`: backtracking follows the value. */
export const noteStackAccess = (env: Env, frameno: number, spi: number): void => {
  pushHistory(env, stackAccessFlags(frameno, spi));
};

/** The registers and stack slots, per frame, whose values still need precision (struct backtrack_state). */
class Backtrack {
  frame = 0;
  readonly regs = new Uint16Array(MAX_CALL_FRAMES);
  /** 64 slots per frame, one byte each. */
  readonly slots = new Uint8Array(MAX_CALL_FRAMES * 64);
  readonly slotCount = new Uint8Array(MAX_CALL_FRAMES);

  reset(frame: number): void {
    this.frame = frame;
    this.regs.fill(0);
    for (let f = 0; f < MAX_CALL_FRAMES; f++) {
      if (!this.slotCount[f]) continue;
      this.slots.fill(0, f * 64, f * 64 + 64);
      this.slotCount[f] = 0;
    }
  }
  empty(): boolean {
    for (let f = 0; f <= this.frame; f++) if (this.regs[f] || this.slotCount[f]) return false;
    return true;
  }
  hasReg(f: number, r: number): boolean {
    return ((this.regs[f] as number) & (1 << r)) !== 0;
  }
  setReg(f: number, r: number): void {
    this.regs[f] = (this.regs[f] as number) | (1 << r);
  }
  clearReg(f: number, r: number): void {
    this.regs[f] = (this.regs[f] as number) & ~(1 << r);
  }
  hasSlot(f: number, spi: number): boolean {
    return this.slots[f * 64 + spi] === 1;
  }
  setSlot(f: number, spi: number): void {
    if (this.slots[f * 64 + spi]) return;
    this.slots[f * 64 + spi] = 1;
    this.slotCount[f] = (this.slotCount[f] as number) + 1;
  }
  clearSlot(f: number, spi: number): void {
    if (!this.slots[f * 64 + spi]) return;
    this.slots[f * 64 + spi] = 0;
    this.slotCount[f] = (this.slotCount[f] as number) - 1;
  }
}

const bt = new Backtrack();

/** Backtracking cannot follow this instruction: fall back to marking every scalar precise. */
const NOT_SUPPORTED = 1;

const bug = (what: string): VerifierError => new VerifierError(`verifier bug: ${what}`, 'EFAULT');

/** bt_sync_linked_regs: if one linked scalar needs precision, all of them do. */
const syncLinked = (b: Backtrack, hist: HistEntry): void => {
  const linked = hist.linked;
  if (linked === undefined) return;
  const some = linked.some((e) => (e.isReg ? b.hasReg(e.frameno, e.index) : b.hasSlot(e.frameno, e.index)));
  if (!some) return;
  for (const e of linked) {
    if (e.isReg) b.setReg(e.frameno, e.index);
    else b.setSlot(e.frameno, e.index);
  }
};

/** What backtracking does with an instruction (decoded once per program, see `backtrackProgram`). */
const Op = {
  NONE: 0,
  MOV: 1,
  ALU: 2,
  LOAD: 3,
  STORE: 4,
  CALL_STATIC: 5,
  CALL_GLOBAL: 6,
  CALL_CALLBACK: 7,
  CALL_HELPER: 8,
  EXIT: 9,
  JMP_X: 10,
  LD_IMM: 11,
  LD_PKT: 12,
} as const;
/** `src` of an operand backtracking never follows (the frame pointer, an immediate). */
const NO_REG = 0xff;

/** The program as backtracking reads it: per instruction an `Op`, its registers, and call facts. */
export interface BacktrackProgram {
  readonly op: Uint8Array;
  readonly dst: Uint8Array;
  /** Source register followed (NO_REG for none); for LOAD, the register loaded; for STORE of an immediate, NO_REG. */
  readonly src: Uint8Array;
  /** bpf_loop calls (the instruction a callback returns to). */
  readonly callback: Uint8Array;
  /** bpf-to-bpf calls. */
  readonly pseudoCall: Uint8Array;
}

export const backtrackProgram = (
  prog: readonly ProgSlot[],
  subprogs: readonly number[],
  funcLinkage: readonly ('static' | 'global')[] | undefined,
): BacktrackProgram => {
  const n = prog.length;
  const p = {
    op: new Uint8Array(n),
    dst: new Uint8Array(n),
    src: new Uint8Array(n).fill(NO_REG),
    callback: new Uint8Array(n),
    pseudoCall: new Uint8Array(n),
  };
  for (let i = 0; i < n; i++) {
    const s = prog[i] as ProgSlot;
    if (s.continuation) continue;
    const { code, dst, src, imm } = s.raw;
    const cls = classOf(code);
    const op = code & Mask.OP;
    const x = (code & Mask.SOURCE) === Source.X;
    p.dst[i] = dst;
    p.callback[i] = isCallbackCall(s) ? 1 : 0;
    p.pseudoCall[i] = isPseudoCall(s) ? 1 : 0;
    if (cls === Class.ALU || cls === Class.ALU64) {
      if (op === AluOp.END || op === AluOp.NEG) continue;
      p.op[i] = op === AluOp.MOV ? Op.MOV : Op.ALU;
      if (x && src !== 10) p.src[i] = src;
    } else if (cls === Class.LDX) {
      p.op[i] = Op.LOAD;
      p.src[i] = dst;
    } else if (cls === Class.STX && (code & Mask.MODE) === Mode.ATOMIC && imm === BPF_LOAD_ACQ) {
      // a load-acquire is followed like a load; 6.18 takes the other atomics (fetches included) as stores
      p.op[i] = Op.LOAD;
      p.src[i] = dst;
    } else if (cls === Class.STX || cls === Class.ST) {
      p.op[i] = Op.STORE;
      if (cls === Class.STX) p.src[i] = src;
    } else if (cls === Class.JMP || cls === Class.JMP32) {
      if (p.pseudoCall[i]) {
        const global = funcLinkage?.[subprogs.indexOf(i + imm + 1)] === 'global';
        p.op[i] = global ? Op.CALL_GLOBAL : Op.CALL_STATIC;
      } else if (op === JmpOp.CALL) p.op[i] = p.callback[i] ? Op.CALL_CALLBACK : Op.CALL_HELPER;
      else if (op === JmpOp.EXIT) p.op[i] = Op.EXIT;
      else if (op !== JmpOp.JA && op !== JmpOp.JCOND && x) {
        p.op[i] = Op.JMP_X;
        p.src[i] = src;
      }
    } else if (cls === Class.LD) {
      const mode = code & Mask.MODE;
      p.op[i] = mode === Mode.ABS || mode === Mode.IND ? Op.LD_PKT : Op.LD_IMM;
    }
  }
  return p;
};

const hex = (n: number): string => n.toString(16);

/**
 * backtrack_insn: turns "needed precise after instruction idx" into "needed before it". `subseq` is
 * the instruction that followed idx on the path (-1 at the start).
 */
const backtrackInsn = (
  p: BacktrackProgram,
  idx: number,
  subseq: number,
  hist: HistEntry | undefined,
  b: Backtrack,
): number => {
  if (hist?.linked) syncLinked(b, hist);
  const f = b.frame;
  const dst = p.dst[idx] as number;
  const src = p.src[idx] as number;
  switch (p.op[idx]) {
    case Op.MOV:
      if (!b.hasReg(f, dst)) return 0;
      b.clearReg(f, dst);
      if (src !== NO_REG) b.setReg(f, src);
      break;
    case Op.ALU:
      if (b.hasReg(f, dst) && src !== NO_REG) b.setReg(f, src);
      break;
    case Op.LOAD: {
      if (!b.hasReg(f, src)) return 0;
      b.clearReg(f, src);
      // only a fill from a spilled scalar keeps its value; other loads are imprecise by nature
      if (hist === undefined || !(hist.flags & STACK_ACCESS)) return 0;
      b.setSlot(hist.flags & FRAMENO_MASK, (hist.flags >> SPI_SHIFT) & SPI_MASK);
      break;
    }
    case Op.STORE: {
      // a scalar used as an address: pointer subtraction the walk cannot follow
      if (b.hasReg(f, dst)) return NOT_SUPPORTED;
      if (hist === undefined || !(hist.flags & STACK_ACCESS)) return 0;
      const fr = hist.flags & FRAMENO_MASK;
      const spi = (hist.flags >> SPI_SHIFT) & SPI_MASK;
      if (!b.hasSlot(fr, spi)) return 0;
      b.clearSlot(fr, spi);
      if (src !== NO_REG) b.setReg(f, src);
      break;
    }
    case Op.CALL_GLOBAL:
      if ((b.regs[f] as number) & REGS_ARGS) throw bug(`global subprog unexpected regs ${hex(b.regs[f] as number)}`);
      b.clearReg(f, 0);
      return 0;
    case Op.CALL_STATIC: {
      // entering the callee backwards means leaving it: only its arguments go on to the caller
      const regs = b.regs[f] as number;
      if (regs & ~REGS_ARGS) throw bug(`static subprog unexpected regs ${hex(regs)}`);
      if (b.slotCount[f]) throw bug('static subprog leftover stack slots');
      if (f === 0) throw bug('subprog exit from frame 0');
      b.regs[f] = 0;
      b.regs[f - 1] = (b.regs[f - 1] as number) | regs;
      b.frame--;
      return 0;
    }
    case Op.CALL_CALLBACK:
      if (idx !== subseq - 1) {
        // back from the callback's first instruction to the call that started it
        if ((b.regs[f] as number) & ~REGS_ARGS) throw bug(`callback unexpected regs ${hex(b.regs[f] as number)}`);
        if (b.slotCount[f]) throw bug('callback leftover stack slots');
        if (f === 0) throw bug('subprog exit from frame 0');
        b.regs[f] = 0;
        b.frame--;
        return 0;
      }
      b.clearReg(f, 0);
      if ((b.regs[f] as number) & REGS_ARGS) throw bug(`backtracking call unexpected regs ${hex(b.regs[f] as number)}`);
      return 0;
    case Op.CALL_HELPER:
      b.clearReg(f, 0);
      if ((b.regs[f] as number) & REGS_ARGS) throw bug(`backtracking call unexpected regs ${hex(b.regs[f] as number)}`);
      return 0;
    case Op.EXIT: {
      if (subseq >= 0 && p.callback[subseq]) b.regs[f] = (b.regs[f] as number) & ~REGS_ARGS;
      if ((b.regs[f] as number) & REGS_ARGS) throw bug(`backtracking exit unexpected regs ${hex(b.regs[f] as number)}`);
      // a subprogram's R0 becomes the caller's; a callback's return value is not passed on
      const r0 = subseq - 1 >= 0 && p.pseudoCall[subseq - 1] === 1 && b.hasReg(f, 0);
      b.clearReg(f, 0);
      if (f === MAX_CALL_FRAMES - 1) throw bug(`subprog enter from frame ${f}`);
      b.frame++;
      if (r0) b.setReg(b.frame, 0);
      return 0;
    }
    case Op.JMP_X:
      if (!b.hasReg(f, dst) && !b.hasReg(f, src)) return 0;
      b.setReg(f, src);
      b.setReg(f, dst);
      break;
    case Op.LD_IMM:
      b.clearReg(f, dst);
      break;
    case Op.LD_PKT:
      if (!b.hasReg(f, dst)) return 0;
      b.clearReg(f, dst);
      return NOT_SUPPORTED;
    default:
      return 0;
  }
  if (hist?.linked) syncLinked(b, hist);
  return 0;
};

/** mark_all_scalars_precise: every scalar of every checkpoint above `st` (not `st` itself) becomes precise. */
const markAllScalarsPrecise = (st: VerifierState, log: VerifierLog): void => {
  const say = log.states;
  if (say) log.write(`mark_precise: frame${st.frames.length - 1}: falling back to forcing all scalars precise\n`);
  for (let p = st.parent; p; p = p.parent) {
    for (const func of p.frames) {
      for (let r = 0; r < 10; r++) {
        const reg = func.regs[r] as RegState;
        if (reg.type !== 'scalar' || reg.precise) continue;
        reg.precise = true;
        if (say) log.write(`force_precise: frame${func.frameno}: forcing r${r} to be precise\n`);
      }
      for (let spi = 0; spi < func.stack.length; spi++) {
        const slot = func.stack[spi];
        if (slot && isSpilledReg(slot) && slot.spilled.type === 'scalar' && !slot.spilled.precise) {
          writableSlot(func, spi).spilled.precise = true;
          if (say) log.write(`force_precise: frame${func.frameno}: forcing fp${-(spi + 1) * 8} to be precise\n`);
        }
      }
    }
  }
};

/** fmt_reg_mask, fmt_stack_mask: `r0,r6` and `-8,-24`. */
const regList = (b: Backtrack, f: number): string => {
  const out: string[] = [];
  for (let r = 0; r < 11; r++) if (b.hasReg(f, r)) out.push(`r${r}`);
  return out.join(',');
};
const slotList = (b: Backtrack, f: number): string => {
  const out: string[] = [];
  if (b.slotCount[f]) for (let spi = 0; spi < 64; spi++) if (b.hasSlot(f, spi)) out.push(String(-(spi + 1) * 8));
  return out.join(',');
};

/** mark_all_scalars_imprecise: a new checkpoint keeps its marks; the path going on starts without. */
export const markAllScalarsImprecise = (st: VerifierState): void => {
  for (const func of st.frames) {
    for (let r = 0; r < 10; r++) (func.regs[r] as RegState).precise = false;
    for (let spi = 0; spi < func.stack.length; spi++) {
      const slot = func.stack[spi];
      if (slot && isSpilledReg(slot) && slot.spilled.precise) writableSlot(func, spi).spilled.precise = false;
    }
  }
};

/** Marks in checkpoint `st` what `b` asks for; what was already precise needs no further walk. */
const markInParent = (st: VerifierState, b: Backtrack, log: VerifierLog): void => {
  for (let fr = b.frame; fr >= 0; fr--) {
    const func = st.frames[fr] as FuncState | undefined;
    if (func === undefined) throw bug(`backtracking frame ${fr} of ${st.frames.length}`);
    for (let r = 0; r < 11; r++) {
      if (!b.hasReg(fr, r)) continue;
      const reg = func.regs[r] as RegState;
      if (reg.type !== 'scalar' || reg.precise) b.clearReg(fr, r);
      else reg.precise = true;
    }
    for (let spi = 0; b.slotCount[fr] && spi < 64; spi++) {
      if (!b.hasSlot(fr, spi)) continue;
      const slot = func.stack[spi];
      if (slot === undefined) throw bug(`stack slot ${spi}, total slots ${func.stack.length}`);
      if (!isSpilledReg(slot) || slot.spilled.type !== 'scalar' || slot.spilled.precise) b.clearSlot(fr, spi);
      else writableSlot(func, spi).spilled.precise = true;
    }
    if (log.states) logParent(st, b, fr, log);
  }
};

/** The level-2 line of a checkpoint's frame after marking (print_verifier_state with everything). */
const logParent = (st: VerifierState, b: Backtrack, fr: number, log: VerifierLog): void => {
  const func = st.frames[fr] as FuncState;
  const state = frameToString(
    func,
    undefined,
    st.refs.map((r) => r.id),
  );
  log.write(`mark_precise: frame${fr}: parent state regs=${regList(b, fr)} stack=${slotList(b, fr)}: ${state}\n`);
};

/**
 * __mark_chain_precision from the current state for what `bt` holds: its own history
 * first (without the current instruction), then each parent checkpoint's.
 */
const markChain = (env: Env): void => {
  if (bt.empty()) return;
  const start = env.state;
  const prog = env.backtrack;
  const len = prog.op.length;
  let st = start;
  let firstIdx = st.firstIdx;
  // the current state stands at the instruction being processed
  let lastIdx = env.insnIdx;
  let subseq = -1;
  let skipFirst = true;
  const log = env.log;
  for (;;) {
    let hist = st.history.length;
    if (log.states) {
      log.write(`mark_precise: frame${bt.frame}: last_idx ${lastIdx} first_idx ${firstIdx} subseq_idx ${subseq} \n`);
    }
    if (lastIdx < 0) throw bug(`backtracking func entry subprog ${st.frames[0]?.subprogno ?? 0}`);
    for (let i = lastIdx; ; ) {
      if (skipFirst) skipFirst = false;
      else {
        const top = hist > 0 ? (st.history[hist - 1] as HistEntry) : undefined;
        const slot = env.prog[i] as ProgSlot;
        if (log.states && !slot.continuation) {
          const f = bt.frame;
          log.write(
            `mark_precise: frame${f}: regs=${regList(bt, f)} stack=${slotList(bt, f)} before ${i}: ${insnText(slot, env.helperName)}\n`,
          );
        }
        const r = backtrackInsn(prog, i, subseq, top?.idx === i ? top : undefined, bt);
        if (r === NOT_SUPPORTED) {
          markAllScalarsPrecise(start, log);
          bt.reset(0);
          return;
        }
      }
      if (bt.empty()) return;
      subseq = i;
      // get_prev_insn_idx
      if (i === st.firstIdx && (hist === 0 || (hist === 1 && st.history[0]?.idx === i))) break;
      const top = hist > 0 ? (st.history[hist - 1] as HistEntry) : undefined;
      if (top !== undefined && top.idx === i) {
        i = top.prev;
        hist--;
      } else i--;
      if (i < 0 || i >= len) throw bug(`backtracking idx ${i}`);
    }
    const parent = st.parent;
    if (parent === undefined) break;
    st = parent;
    markInParent(st, bt, log);
    if (bt.empty()) return;
    subseq = firstIdx;
    lastIdx = st.lastIdx;
    firstIdx = st.firstIdx;
  }
  // something was missed (a stack access through a variable offset...): be conservative
  if (!bt.empty()) {
    markAllScalarsPrecise(start, log);
    bt.reset(0);
  }
};

/** mark_chain_precision(regno): the current frame's scalar register `regno` must stay exact. */
export const markRegPrecise = (env: Env, regno: number): void => {
  const st = env.state;
  bt.reset(st.frames.length - 1);
  const reg = st.frames[bt.frame]?.regs[regno];
  if (reg?.type !== 'scalar') throw bug('backtracking misuse');
  bt.setReg(bt.frame, regno);
  markChain(env);
};

/** mark_chain_precision_batch for one spilled slot (a constant map key read from the stack). */
export const markSlotPrecise = (env: Env, frameno: number, spi: number): void => {
  const st = env.state;
  bt.reset(st.frames.length - 1);
  bt.setSlot(frameno, spi);
  markChain(env);
};

/**
 * propagate_precision: the current path was pruned against `old`; whatever `old` needed precise
 * (among its live registers, given per frame by `liveAt`) is needed on this path too.
 */
export const propagatePrecision = (
  env: Env,
  old: VerifierState,
  liveAt: (frame: number) => number,
  slotLive?: SlotLive,
): void => {
  bt.reset(old.frames.length - 1);
  const log = env.log;
  for (let fr = old.frames.length - 1; fr >= 0; fr--) {
    const func = old.frames[fr] as FuncState;
    const live = liveAt(fr);
    // level 2 lists them: "frame 0: propagating r6,fp-16"
    const names: string[] = [];
    for (let r = 0; r < 10; r++) {
      const reg = func.regs[r] as RegState;
      if (reg.type !== 'scalar' || !reg.precise || !(live & (1 << r))) continue;
      bt.setReg(fr, r);
      names.push(`r${r}`);
    }
    for (let spi = 0; spi < func.stack.length; spi++) {
      const slot = func.stack[spi];
      if (slotLive !== undefined && !slotLive(fr, spi)) continue;
      if (!slot || !isSpilledReg(slot) || slot.spilled.type !== 'scalar' || !slot.spilled.precise) continue;
      bt.setSlot(fr, spi);
      names.push(`fp${-(spi + 1) * 8}`);
    }
    if (log.states && names.length > 0) log.write(`frame ${fr}: propagating ${names.join(',')}\n`);
  }
  markChain(env);
};
