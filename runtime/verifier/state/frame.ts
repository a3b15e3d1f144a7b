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

export interface VerifierState {
  frames: FuncState[];
  refs: RefState[];
  /** Callback iterations unrolled on this path (callback_unroll_depth). */
  callbackUnrollDepth: number;
}

export const newSlot = (): StackSlot => ({ types: Array<SlotType>(SLOT_SIZE).fill(Slot.INVALID), spilled: newReg() });

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
// and literal copies keep one hidden class per kind, which V8 copies faster than spreads.

export const cloneSlot = (s: StackSlot): StackSlot => ({ types: s.types.slice(), spilled: cloneReg(s.spilled) });

export const cloneFrame = (f: FuncState): FuncState => ({
  regs: f.regs.map(cloneReg),
  stack: f.stack.map(cloneSlot),
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
});

export const curFrame = (s: VerifierState): FuncState => s.frames[s.frames.length - 1] as FuncState;

/** Grow the frame's slot array so that `spi` exists (grow_stack_state). */
export const ensureSlot = (f: FuncState, spi: number): StackSlot => {
  while (f.stack.length <= spi) f.stack.push(newSlot());
  return f.stack[spi] as StackSlot;
};

export const isSpilledReg = (s: StackSlot): boolean => s.types[SLOT_SIZE - 1] === Slot.SPILL;

/** Every register and spilled register of every frame (bpf_for_each_reg_in_vstate). */
export function* allRegs(s: VerifierState): Generator<RegState> {
  for (const f of s.frames) {
    for (const r of f.regs) yield r;
    for (const slot of f.stack) if (isSpilledReg(slot)) yield slot.spilled;
  }
}

export { assignReg, markNotInit };
