/**
 * The verifier's working context for one program: the current path state, the log, counters, and
 * the register-operand checks every transfer function starts with (check_reg_arg).
 */

import type { CfgInfo } from '../cfg.ts';
import { tnumIsConst } from '../domain/tnum.ts';
import type { Scratch } from '../log/print.ts';
import type { VerifierLog } from '../log/writer.ts';
import type { ProgramPolicy } from '../policy/types.ts';
import type { BacktrackProgram } from '../precision.ts';
import type { ProgSlot } from '../program.ts';
import type { StackLiveness } from '../stack-liveness.ts';
import { curFrame, type FuncState, type HistEntry, type VerifierState } from '../state/frame.ts';
import { type MapDesc, markScalarUnknown, type RegState } from '../state/reg.ts';

/** A rejection: the kernel's message for the current instruction. */
export class VerifierError extends Error {
  override readonly name = 'VerifierError';
  /** errno the kernel returns with it (EACCES, EINVAL, E2BIG...). */
  readonly errno: string;
  constructor(message: string, errno: 'EACCES' | 'EINVAL' | 'E2BIG' | 'EFAULT' | 'ENOTSUPP' = 'EACCES') {
    super(message);
    this.errno = errno;
  }
}

export interface Env {
  readonly prog: readonly ProgSlot[];
  readonly cfg: CfgInfo;
  readonly policy: ProgramPolicy;
  readonly maps: readonly MapDesc[];
  readonly log: VerifierLog;
  readonly privileged: boolean;
  state: VerifierState;
  insnIdx: number;
  prevInsnIdx: number;
  idGen: number;
  scratch: Scratch;
  /** Max stack depth touched, per subprogram. */
  stackDepth: number[];
  /** The log's name for helper `id`. */
  helperName: (id: number) => string | undefined;
  /** license_is_gpl_compatible(license) */
  gplCompatible: boolean;
  /** Loaded with BPF_F_SLEEPABLE. */
  sleepable: boolean;
  /** nr_cpu_ids (bounds bpf_get_smp_processor_id's result). */
  nrCpuIds: number;
  /** BTF func_info linkage per subprogram, when the program has func_info. */
  funcLinkage: readonly ('static' | 'global')[] | undefined;
  /** The jump-history entry of the instruction being processed, once one was recorded (cur_hist_ent). */
  curHist: HistEntry | undefined;
  /** Registers live before each instruction (liveness.ts). */
  readonly live: Uint16Array;
  /** The program decoded for precision backtracking (precision.ts). */
  readonly backtrack: BacktrackProgram;
  /** Stack reads and writes met so far, and the stack slots live at each instruction. */
  readonly stackLive: StackLiveness;
  /** Per bpf_loop call: still fit to be inlined (flags a known zero, one callback), and that callback. */
  readonly loopInline: Map<number, { fit: boolean; readonly subprogno: number }>;
}

/**
 * Slot `spi` of frame `frameno` is read: at this instruction when the frame is the current one, else at
 * the call through which the current subprogram (or callback) was entered from that frame's code.
 */
export const noteStackRead = (env: Env, frameno: number, spi: number): void => {
  const frames = env.state.frames;
  const at = frameno >= frames.length - 1 ? env.insnIdx : (frames[frameno + 1]?.callsite ?? env.insnIdx);
  env.stackLive.read(at, spi);
};

export const cur = (env: Env): FuncState => curFrame(env.state);
export const regs = (env: Env): RegState[] => cur(env).regs;
export const reg = (env: Env, n: number): RegState => regs(env)[n] as RegState;

// Scratch marks only choose what a verbose log prints after an instruction: without one, nothing
// reads them, so they are not kept.
export const scratchReg = (env: Env, n: number): void => {
  if (env.log.verbose) env.scratch.regs.add(n);
};
export const scratchSlot = (env: Env, spi: number): void => {
  if (env.log.verbose) env.scratch.slots.add(spi);
};
export const scratchAll = (env: Env): void => {
  if (!env.log.verbose) return;
  for (let i = 0; i < 11; i++) env.scratch.regs.add(i);
  for (let i = 0; i < 64; i++) env.scratch.slots.add(i);
};
export const clearScratch = (env: Env): void => {
  env.scratch.regs.clear();
  env.scratch.slots.clear();
};

/** A fresh scalar id for a register about to be copied or spilled (assign_scalar_id_before_mov). */
export const assignScalarId = (env: Env, src: RegState): void => {
  if (src.type === 'scalar' && !src.id && !tnumIsConst(src.b.varOff)) src.id = ++env.idGen;
};

export type RegUse = 'src' | 'dst' | 'dst_no_mark';

/** check_reg_arg: "R%d is invalid", "R%d !read_ok", "frame pointer is read only". */
export const checkRegArg = (env: Env, regno: number, use: RegUse): void => {
  if (regno >= 11) throw new VerifierError(`R${regno} is invalid`, 'EINVAL');
  scratchReg(env, regno);
  const r = reg(env, regno);
  if (use === 'src') {
    if (r.type === 'not_init') throw new VerifierError(`R${regno} !read_ok`);
    return;
  }
  if (regno === 10) throw new VerifierError('frame pointer is read only');
  if (use === 'dst') markScalarUnknown(r);
};
