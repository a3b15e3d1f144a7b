/**
 * Frames: bpf-to-bpf calls (check_func_call / setup_func_entry), returns from subprograms and
 * callbacks (prepare_func_exit), and the main program's exit (check_reference_leak,
 * check_return_code).
 */
import type { Insn } from '../../../bpf/isa/index.ts';
import { frameToString } from '../log/print.ts';
import { markRegPrecise } from '../precision.ts';
import { type FuncState, MAX_CALL_FRAMES, newFrame, type VerifierState } from '../state/frame.ts';
import { assignReg, markNotInit, type RegState, regTypeStr } from '../state/reg.ts';
import { checkRegArg, cur, type Env, reg, scratchAll, VerifierError } from './env.ts';

/** setup_func_entry: pushes a fresh frame for `subprogno` onto `state`. */
export const setupFuncEntry = (env: Env, state: VerifierState, subprogno: number, callsite: number): FuncState => {
  const frames = state.frames;
  if (frames.length >= MAX_CALL_FRAMES) {
    throw new VerifierError(`the call stack of ${frames.length + 1} frames is too deep !`, 'E2BIG');
  }
  const callee = newFrame(frames.length, subprogno, callsite);
  frames.push(callee);
  void env;
  return callee;
};

/** check_func_call for a bpf-to-bpf call: a new frame with R1-R5 passed, caller's R0-R5 cleared. */
export const enterSubprog = (env: Env, insn: Insn): void => {
  const target = env.insnIdx + insn.imm + 1;
  const subprogno = env.cfg.subprogs.indexOf(target);
  if (env.funcLinkage?.[subprogno] === 'global') {
    throw new VerifierError('calls to global functions are not modelled by this verifier yet', 'ENOTSUPP');
  }
  const caller = cur(env);
  const callee = setupFuncEntry(env, env.state, subprogno, env.insnIdx);
  for (let i = 1; i <= 5; i++) assignReg(callee.regs[i] as RegState, caller.regs[i] as RegState);
  for (let i = 0; i <= 5; i++) markNotInit(caller.regs[i] as RegState);
  if (env.log.verbose) {
    env.log.write(
      `caller:\n${frameToString(caller, undefined, [])}\ncallee:\n${frameToString(callee, undefined, [])}\n`,
    );
  }
  scratchAll(env);
  env.insnIdx = target;
};

/** "At program exit the register R0 has smin=1 smax=1 should have been in [0, 0]" (verbose_invalid_scalar) */
const invalidScalar = (r: RegState, range: readonly [number, number], ctx: string): VerifierError => {
  let text = `${ctx} the register R0 has`;
  let unknown = true;
  if (r.b.smin > -(1n << 63n)) {
    text += ` smin=${r.b.smin}`;
    unknown = false;
  }
  if (r.b.smax < (1n << 63n) - 1n) {
    text += ` smax=${r.b.smax}`;
    unknown = false;
  }
  if (unknown) text += ' unknown scalar value';
  return new VerifierError(`${text} should have been in [${range[0]}, ${range[1]}]`, 'EINVAL');
};

const within = (r: RegState, [lo, hi]: readonly [number, number]): boolean =>
  BigInt(lo) <= r.b.smin && r.b.smax <= BigInt(hi);

/**
 * prepare_func_exit: R0 goes back to the caller, which resumes after its call — or, for a
 * callback, at the callback-calling instruction itself, which then decides on another iteration.
 */
export const leaveSubprog = (env: Env): void => {
  const callee = cur(env);
  const r0 = callee.regs[0] as RegState;
  // prepare_func_exit reads R0 without check_reg_arg: the register is not scratched (not printed again)
  if (r0.type === 'not_init') throw new VerifierError('R0 !read_ok');
  if (r0.type === 'stack') throw new VerifierError('cannot return stack pointer to the caller', 'EINVAL');
  const frames = env.state.frames;
  const caller = frames[frames.length - 2] as FuncState;
  if (callee.inCallback) {
    if (r0.type !== 'scalar') throw new VerifierError('R0 not a scalar value');
    markRegPrecise(env, 0);
    const range = callee.callbackRetRange ?? [0, 1];
    if (!within(r0, range)) throw invalidScalar(r0, range, 'At callback return');
  } else {
    assignReg(caller.regs[0] as RegState, r0);
  }
  const resume = callee.inCallback ? callee.callsite : callee.callsite + 1;
  if (env.log.verbose) {
    env.log.write(
      `returning from callee:\n${frameToString(callee, undefined, [])}\nto caller at ${resume}:\n${frameToString(caller, undefined, [])}\n`,
    );
  }
  frames.pop();
  env.insnIdx = resume;
};

/** The main program's exit: references released, R0 readable and in the program type's range. */
export const checkMainExit = (env: Env): void => {
  if (env.state.refs.length) {
    const lines = env.state.refs.map((r) => `Unreleased reference id=${r.id} alloc_insn=${r.insnIdx}`);
    throw new VerifierError(
      `${lines.join('\n')}\nBPF_EXIT instruction in main prog would lead to reference leak`,
      'EINVAL',
    );
  }
  checkRegArg(env, 0, 'src');
  const range = env.policy.retRange;
  if (!range) return;
  const r0 = reg(env, 0);
  if (r0.type !== 'scalar') {
    throw new VerifierError(
      `At program exit the register R0 is not a known value (${regTypeStr(r0.type, r0.flags)})`,
      'EINVAL',
    );
  }
  markRegPrecise(env, 0);
  if (!within(r0, range)) throw invalidScalar(r0, range, 'At program exit');
};
