/**
 * The combined stack check that follows the path walk (check_max_stack_depth): along every static
 * chain of bpf-to-bpf calls and callback references (lddw src 4) from the main program, the frames'
 * stack depths, each rounded up to 16 bytes (the JIT's granularity; the kernel JITs here), must add
 * up to at most 512. Programs that may use a private stack (tracing programs, x86-64 JIT) keep
 * subprograms of 64 bytes or more off the shared stack.
 * Not modelled: the 256-byte limit of frames that precede a tail call.
 */
import { VerifierError } from './check/env.ts';
import { MAX_BPF_STACK } from './state/frame.ts';
import type { ProgSlot } from './program.ts';

const PSEUDO_CALL = { code: 0x85, src: 1 } as const;
const PSEUDO_FUNC = { code: 0x18, src: 4 } as const;
const MAX_CALL_FRAMES = 8;
/** BPF_PRIV_STACK_MIN_SIZE */
const PRIV_STACK_MIN = 64;

const roundUp16 = (n: number): number => Math.ceil(n / 16) * 16;

/** Subprogram index of the one starting at `start` (starts are sorted, main first). */
const subprogAt = (starts: readonly number[], start: number): number => starts.indexOf(start);

/** Throws the kernel's error when a call chain's stack does not fit. */
export const checkMaxStackDepth = (
  prog: readonly ProgSlot[],
  starts: readonly number[],
  depths: readonly number[],
  privateStack: boolean,
): void => {
  const frameSize = (idx: number): number => {
    const d = roundUp16(depths[idx] ?? 0);
    return privateStack && d >= PRIV_STACK_MIN ? 0 : d;
  };
  // Depth-first over the call graph; recursion is impossible (check_cfg refuses back-edges through calls).
  const walk = (idx: number, frame: number, below: number): void => {
    const depth = below + frameSize(idx);
    if (depth > MAX_BPF_STACK)
      throw new VerifierError(`combined stack size of ${frame + 1} calls is ${depth}. Too large`, 'EACCES');
    const end = starts[idx + 1] ?? prog.length;
    for (let i = starts[idx] ?? 0; i < end; i++) {
      const s = prog[i] as ProgSlot;
      if (s.continuation) continue;
      const { code, src, imm } = s.raw;
      const isCall = code === PSEUDO_CALL.code && src === PSEUDO_CALL.src;
      if (!isCall && !(code === PSEUDO_FUNC.code && src === PSEUDO_FUNC.src)) continue;
      const callee = subprogAt(starts, i + imm + 1);
      if (callee < 0) continue;
      if (frame + 1 >= MAX_CALL_FRAMES)
        throw new VerifierError(`the call stack of ${frame + 1} frames is too deep !`, 'E2BIG');
      walk(callee, frame + 1, depth);
    }
  };
  walk(0, 0, 0);
};
