/**
 * Function frames and whole verifier states: registers, the 512-byte stack as 8-byte slots with a
 * type per byte, acquired references, and the call chain (struct bpf_func_state / bpf_verifier_state).
 */
import { assignReg, cloneReg, makeReg, markNotInit, newReg, type RegState } from './reg.ts';

export const MAX_BPF_STACK = 512;
export const SLOT_SIZE = 8;
export const MAX_CALL_FRAMES = 8;

/** Per-byte stack slot types (enum bpf_stack_slot_type). */
export const Slot = { INVALID: 0, SPILL: 1, MISC: 2, ZERO: 3 } as const;
export type SlotType = (typeof Slot)[keyof typeof Slot];

export interface StackSlot {
  /** Index i describes byte (8*spi + 7 - i) below the slot's top, as the kernel indexes slot_type. */
  types: SlotType[];
  /** The spilled register (meaningful when the slot holds a spill). */
  spilled: RegState;
  /**
   * Held by more than one frame (cloneFrame shares slots): read freely, but write only through
   * writableSlot / updateRegs, which copy it first.
   */
  shared: boolean;
}

export interface FuncState {
  regs: RegState[];
  /** stack[spi] covers fp-8*(spi+1) .. fp-8*spi-1. */
  stack: StackSlot[];
  frameno: number;
  subprogno: number;
  /** Index of the call instruction in the caller (-1 for the main function). */
  callsite: number;
  /** True while verifying a callback (bpf_loop). */
  inCallback: boolean;
  /** Allowed R0 range at a callback's exit. */
  callbackRetRange: readonly [number, number] | undefined;
  /** Callback iterations entered from this frame's current callback-calling call (callback_depth). */
  callbackDepth: number;
}

export interface RefState {
  id: number;
  insnIdx: number;
}

/** A linked scalar recorded with a conditional jump: a register or a spilled slot of a frame. */
export interface LinkedReg {
  readonly frameno: number;
  readonly isReg: boolean;
  /** Register number, or stack slot index (spi) when !isReg. */
  readonly index: number;
}

/**
 * One jmp_history entry: instruction `idx` was reached from `prev` (a jump, a call or a return), or
 * accessed a stack slot (`flags`, see precision.ts), or refined linked scalars at a jump.
 */
export class HistEntry {
  readonly idx: number;
  readonly prev: number;
  flags: number;
  linked: readonly LinkedReg[] | undefined;
  constructor(idx: number, prev: number, flags: number, linked: readonly LinkedReg[] | undefined) {
    this.idx = idx;
    this.prev = prev;
    this.flags = flags;
    this.linked = linked;
  }
}

export interface VerifierState {
  frames: FuncState[];
  refs: RefState[];
  /** Callback iterations unrolled on this path (callback_unroll_depth). */
  callbackUnrollDepth: number;
  /** The checkpoint this state continues from (precision marks propagate into it). */
  parent: VerifierState | undefined;
  /** First instruction of this state's own stretch of the path (first_insn_idx). */
  firstIdx: number;
  /** The instruction processed before the current one (last_insn_idx). */
  lastIdx: number;
  /** Non-linear steps and stack accesses since firstIdx (jmp_history); entries are never changed once copied. */
  history: HistEntry[];
  /** Checkpoints above this state on its path (dfs_depth). */
  dfsDepth: number;
}

export const newSlot = (): StackSlot => ({
  types: Array<SlotType>(SLOT_SIZE).fill(Slot.INVALID),
  spilled: newReg(),
  shared: false,
});

export const newFrame = (frameno: number, subprogno: number, callsite: number): FuncState => {
  const regs = Array.from({ length: 11 }, () => newReg());
  regs[10] = makeReg('stack', { frameno });
  return {
    regs,
    stack: [],
    frameno,
    subprogno,
    callsite,
    inCallback: false,
    callbackRetRange: undefined,
    callbackDepth: 0,
  };
};

// The copies below list their fields: every state is copied at each checkpoint and undecided branch,
// and literal copies keep one hidden class per kind, which V8 copies faster than spreads. Stack slots
// are shared copy-on-write: most of a frame's slots never change between two copies of a state.

const cloneSlot = (s: StackSlot): StackSlot => ({
  types: s.types.slice(),
  spilled: cloneReg(s.spilled),
  shared: false,
});

const shareSlots = (stack: readonly StackSlot[]): StackSlot[] => {
  for (let spi = 0; spi < stack.length; spi++) (stack[spi] as StackSlot).shared = true;
  return stack.slice();
};

export const cloneFrame = (f: FuncState): FuncState => ({
  regs: f.regs.map(cloneReg),
  stack: shareSlots(f.stack),
  frameno: f.frameno,
  subprogno: f.subprogno,
  callsite: f.callsite,
  inCallback: f.inCallback,
  callbackRetRange: f.callbackRetRange,
  callbackDepth: f.callbackDepth,
});

export const cloneState = (s: VerifierState): VerifierState => ({
  frames: s.frames.map(cloneFrame),
  refs: s.refs.map((r) => ({ id: r.id, insnIdx: r.insnIdx })),
  callbackUnrollDepth: s.callbackUnrollDepth,
  parent: s.parent,
  firstIdx: s.firstIdx,
  lastIdx: s.lastIdx,
  history: s.history.slice(),
  dfsDepth: s.dfsDepth,
});

/** The state a program (or a subprogram verified on its own) starts in: one frame, nothing before it. */
export const newState = (subprogno = 0, start = 0): VerifierState => ({
  frames: [newFrame(0, subprogno, -1)],
  refs: [],
  callbackUnrollDepth: 0,
  parent: undefined,
  firstIdx: start,
  lastIdx: -1,
  history: [],
  dfsDepth: 0,
});

export const curFrame = (s: VerifierState): FuncState => s.frames[s.frames.length - 1] as FuncState;

/** Grow the frame's slot array so that `spi` exists (grow_stack_state); the slot, to read. */
export const ensureSlot = (f: FuncState, spi: number): StackSlot => {
  while (f.stack.length <= spi) f.stack.push(newSlot());
  return f.stack[spi] as StackSlot;
};

/** ensureSlot, for writing: a slot this frame alone holds (a shared one is copied first). */
export const writableSlot = (f: FuncState, spi: number): StackSlot => {
  const slot = ensureSlot(f, spi);
  if (!slot.shared) return slot;
  const own = cloneSlot(slot);
  f.stack[spi] = own;
  return own;
};

export const isSpilledReg = (s: StackSlot): boolean => s.types[SLOT_SIZE - 1] === Slot.SPILL;

/**
 * bpf_for_each_reg_in_vstate: `update` each register and spilled register of every frame that
 * `match` selects, in frame order, registers before stack slots (a spill's slot is made writable).
 */
export const updateRegs = (s: VerifierState, match: (r: RegState) => boolean, update: (r: RegState) => void): void => {
  for (let fi = 0; fi < s.frames.length; fi++) {
    const f = s.frames[fi] as FuncState;
    for (let i = 0; i < f.regs.length; i++) {
      const r = f.regs[i] as RegState;
      if (match(r)) update(r);
    }
    for (let spi = 0; spi < f.stack.length; spi++) {
      const slot = f.stack[spi] as StackSlot;
      if (isSpilledReg(slot) && match(slot.spilled)) update(writableSlot(f, spi).spilled);
    }
  }
};

export { assignReg, markNotInit };
