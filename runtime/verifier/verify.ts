/**
 * The driver (bpf_check / do_check): static checks, then a depth-first walk of every path with a
 * stack of pending branches, pruning at prune points, and the kernel's log and statistics.
 * Each instruction kind has its own transfer module under check/; this file only sequences them.
 */
import { availableParallelism } from 'node:os';
import { helperName as abiHelperName, BPF_FUNC } from '../../bpf/abi/index.ts';
import { Class, checkSlot, classOf, type Insn, type RawSlot, toSlots } from '../../bpf/isa/index.ts';
import { analyzeCfg, CfgError } from './cfg.ts';
import { checkAlu } from './check/alu.ts';
import { checkHelperCall } from './check/call.ts';
import { clearScratch, type Env, scratchAll, VerifierError } from './check/env.ts';
import { checkCondJmp } from './check/jmp.ts';
import { checkLdAbs, checkLdImm } from './check/ldimm.ts';
import { checkAtomic, checkLoad, checkStore } from './check/mem.ts';
import { checkMainExit, enterSubprog, leaveSubprog } from './check/subprog.ts';
import { flowGraph, liveRegisters } from './liveness.ts';
import { frameToString, insnText } from './log/print.ts';
import { LogLevel, VerifierLog } from './log/writer.ts';
import type { ProgramPolicy } from './policy/types.ts';
import { backtrackProgram, markAllScalarsImprecise, propagatePrecision, pushHistory } from './precision.ts';
import { fromRawSlots, isCallbackCall, type ProgSlot } from './program.ts';
import { type SlotLive, statesEqual, statesIdentical, statesMaybeLooping, widenImpreciseScalars } from './prune.ts';
import { summarizeLog, type VerifierResult } from './result.ts';
import { checkMaxStackDepth } from './stack-depth.ts';
import { StackLiveness } from './stack-liveness.ts';
import { cloneState, curFrame, newState, type VerifierState } from './state/frame.ts';
import { type MapDesc, makeReg, type RegState } from './state/reg.ts';

export const COMPLEXITY_LIMIT_INSNS = 1_000_000;
export const COMPLEXITY_LIMIT_JMP_SEQ = 8192;

export interface VerifyOptions {
  readonly policy: ProgramPolicy;
  /** Maps referenced by lddw (src 1/2/5/6): the immediate is an index into this list. */
  readonly maps?: readonly MapDesc[];
  /** Log level bits: 1 verbose, 2 states, 4 statistics. */
  readonly logLevel?: number;
  /** Privileged (CAP_BPF + CAP_PERFMON) rules; only privileged mode is modelled so far. */
  readonly privileged?: boolean;
  /** Helper names for the log; default bpf/abi's table. */
  readonly helperName?: (id: number) => string | undefined;
  /** The program's license string (default "GPL"): GPL-only helpers need a GPL-compatible one. */
  readonly license?: string;
  /** Loaded with BPF_F_SLEEPABLE (fentry.s/..., syscall). */
  readonly sleepable?: boolean;
  /** BTF func_info linkage of each subprogram (by start order); without it, callbacks are refused. */
  readonly funcLinkage?: readonly ('static' | 'global')[];
  /** nr_cpu_ids; default this machine's CPU count. */
  readonly nrCpuIds?: number;
}

/** license_is_gpl_compatible */
const GPL_COMPATIBLE = new Set([
  'GPL',
  'GPL v2',
  'GPL and additional rights',
  'Dual BSD/GPL',
  'Dual MIT/GPL',
  'Dual MPL/GPL',
]);

/** A checkpoint of explored states (struct bpf_verifier_state_list entry). */
interface Node {
  readonly state: VerifierState;
  branches: number;
  readonly parent: Node | undefined;
  /** Prune hits and misses (the eviction heuristic). */
  hit: number;
  miss: number;
}

interface Pending {
  readonly state: VerifierState;
  readonly insnIdx: number;
  readonly prevInsnIdx: number;
  readonly logPos: number;
  readonly parent: Node | undefined;
}

const statsLine = (processed: number, maxPer: number, total: number, peak: number): string =>
  `processed ${processed} insns (limit ${COMPLEXITY_LIMIT_INSNS}) max_states_per_insn ${maxPer} total_states ${total} peak_states ${peak} mark_read 0\n`;

/** Verifies a program given as instructions or raw slots. Never throws on bad programs. */
export const verify = (program: readonly Insn[] | readonly RawSlot[], options: VerifyOptions): VerifierResult => {
  const first = program[0];
  const slots: RawSlot[] =
    first !== undefined && 'spec' in first
      ? (program as readonly Insn[]).flatMap(toSlots)
      : [...(program as RawSlot[])];
  const prog = fromRawSlots(slots);
  const log = new VerifierLog(options.logLevel ?? 0);
  const privileged = options.privileged ?? true;
  const maps = options.maps ?? [];
  const started = process.hrtime.bigint();

  let processed = 0;
  let totalStates = 0;
  let liveStates = 0;
  let peakStates = 0;
  let maxPer = 0;
  const fail = (insnIdx: number, e: VerifierError | CfgError, state: VerifierState | undefined): VerifierResult => {
    log.write(`${e.message}\n`);
    finishLog();
    // Two-line kernel messages (region checks) end with the decisive line; loop reports start with it.
    const lines = e.message.split('\n');
    const message = (lines[0]?.startsWith('infinite loop') ? lines[0] : lines[lines.length - 1]) ?? e.message;
    return {
      accepted: false,
      error: {
        insnIdx,
        message,
        errno: e instanceof VerifierError ? e.errno : 'EINVAL',
        state,
        unsupported: e instanceof VerifierError && e.errno === 'ENOTSUPP',
      },
      log: log.toString(),
      stats: { insnProcessed: processed, maxStatesPerInsn: maxPer, totalStates, peakStates, stackDepth },
      summary: summarizeLog(log.toString()),
    };
  };
  const stackDepth: number[] = [];
  const finishLog = (): void => {
    if (options.logLevel && options.logLevel & LogLevel.STATS) {
      const usec = Number((process.hrtime.bigint() - started) / 1000n);
      log.write(`verification time ${usec} usec\n`);
      log.write(`stack depth ${stackDepth.map((d) => d ?? 0).join('+') || '0'}\n`);
    }
    log.write(statsLine(processed, maxPer, totalStates, peakStates));
  };

  if (prog.length === 0) return fail(0, new VerifierError('empty program', 'EINVAL'), undefined);
  let cfg: ReturnType<typeof analyzeCfg>;
  try {
    cfg = analyzeCfg(prog, {
      privileged,
      mapCount: maps.length,
      isCallbackCall,
      onSubprogs: (starts) => {
        if (!log.states) return;
        for (let i = 0; i < starts.length; i++) log.write(`func#${i} @${starts[i]}\n`);
      },
    });
  } catch (e) {
    if (e instanceof CfgError) return fail(e.insnIdx, e, undefined);
    throw e;
  }
  for (let i = 0; i < cfg.subprogs.length; i++) stackDepth.push(0);
  const graph = flowGraph(prog);
  const live = liveRegisters(prog, graph);

  const initial: VerifierState = newState();
  (initial.frames[0]?.regs[1] as RegState).type = 'ctx';
  Object.assign(initial.frames[0]?.regs[1] as RegState, makeReg('ctx'));

  const env: Env = {
    prog,
    cfg,
    policy: options.policy,
    maps,
    log,
    privileged,
    state: initial,
    insnIdx: 0,
    prevInsnIdx: -1,
    idGen: 0,
    scratch: { regs: new Set(), slots: new Set() },
    stackDepth,
    helperName: options.helperName ?? abiHelperName,
    gplCompatible: GPL_COMPATIBLE.has(options.license ?? 'GPL'),
    sleepable: options.sleepable ?? false,
    nrCpuIds: options.nrCpuIds ?? availableParallelism(),
    funcLinkage: options.funcLinkage,
    curHist: undefined,
    live,
    backtrack: backtrackProgram(prog, cfg.subprogs, options.funcLinkage),
    stackLive: new StackLiveness(graph),
    loopInline: new Map(),
  };
  scratchAll(env);

  const explored = new Map<number, Node[]>();
  /** Checkpoints per hash bucket (explored_state's (insn ^ callsite) % len). */
  const buckets = new Int32Array(prog.length);
  const pending: Pending[] = [];
  let curNode: Node = { state: env.state, branches: 1, parent: undefined, hit: 0, miss: 0 };

  // checkSlot depends on the slots alone: an instruction that passed is not checked again.
  const slotChecked = new Uint8Array(prog.length);
  let jmpsProcessed = 0;
  let prevJmps = 0;
  let prevInsns = 0;
  let doPrintState = false;

  const updateBranchCounts = (n: Node | undefined): void => {
    while (n) {
      n.branches--;
      if (n.branches > 0) break;
      n = n.parent;
    }
  };

  /** is_state_visited: 1 when pruned; may add a checkpoint. */
  /** Where frame `frame` of the current state stands: at `idx`, or at its pending call. */
  const frameInsn = (idx: number, frame: number): number => {
    const frames = env.state.frames;
    return frame === frames.length - 1 ? idx : (frames[frame + 1]?.callsite ?? idx);
  };
  const liveAt =
    (idx: number) =>
    (frame: number): number =>
      live[frameInsn(idx, frame)] ?? 0x7ff;
  const slotLiveAt =
    (idx: number): SlotLive =>
    (frame, spi) =>
      env.stackLive.isLive(frameInsn(idx, frame), spi);
  /** A jump point (is_jmp_point), or an arrival that is not the next instruction: the history records it. */
  const isJmpStep = (idx: number): boolean => {
    const prev = env.prevInsnIdx;
    return cfg.prunePoints[idx] === 1 || (prev !== idx - 1 && !(prev === idx - 2 && prog[prev]?.raw.code === 0x18));
  };
  /** A prune: whatever the old state needed precise, this path needs too. */
  const pruned = (old: Node, idx: number, liveHere: (frame: number) => number, slots?: SlotLive): true => {
    old.hit++;
    if (isJmpStep(idx)) pushHistory(env, 0);
    propagatePrecision(env, old.state, liveHere, slots);
    return true;
  };

  const stateVisited = (idx: number): boolean => {
    const list = explored.get(idx) ?? NO_STATES;
    const force = cfg.forceCheckpoints[idx] === 1;
    let addNew = force || (jmpsProcessed - prevJmps >= 2 && processed - prevInsns >= 8);
    // the kernel's lists are hash buckets of (insn ^ callsite): a state of another call chain is not
    // looked at, and max_states_per_insn counts the whole bucket
    const callsite = curFrame(env.state).callsite;
    const bucket = ((idx ^ callsite) >>> 0) % prog.length;
    const statesCnt = buckets[bucket] as number;
    const liveHere = liveAt(idx);
    const slotsHere = slotLiveAt(idx);
    for (let k = 0; k < list.length; k++) {
      const sl = list[k] as Node;
      if (curFrame(sl.state).callsite !== callsite) continue;
      if (sl.branches > 0) {
        // A callback-calling call is revisited after each callback iteration: an equivalent
        // state there means the iterations converged.
        if (isCallbackCall(prog[idx] as ProgSlot)) {
          if (statesEqual(sl.state, env.state, liveHere, true)) return pruned(sl, idx, liveHere);
        } else {
          if (statesMaybeLooping(sl.state, env.state) && statesIdentical(sl.state, env.state)) {
            const dump = (st: VerifierState): string =>
              frameToString(
                curFrame(st),
                undefined,
                st.refs.map((r) => r.id),
              );
            throw new VerifierError(
              `infinite loop detected at insn ${idx}\ncur state:${dump(env.state)}\nold state:${dump(sl.state)}`,
              'EINVAL',
            );
          }
          // Inside a loop, checkpoints are added less often.
          addNew = force || jmpsProcessed - prevJmps >= 20 || processed - prevInsns >= 100;
        }
      } else if (statesEqual(sl.state, env.state, liveHere, false, slotsHere)) {
        return pruned(sl, idx, liveHere, slotsHere);
      }
      // miss: evict states that keep failing to prune (they stay alive for their branches).
      if (addNew) sl.miss++;
      const n = force && sl.branches > 0 ? 64 : 3;
      if (sl.miss > sl.hit * n + n) {
        list.splice(k, 1);
        k--;
        liveStates--;
        buckets[bucket] = (buckets[bucket] as number) - 1;
      }
    }
    maxPer = Math.max(maxPer, statesCnt);
    if (!addNew) return false;
    prevJmps = jmpsProcessed;
    prevInsns = processed;
    const node: Node = {
      state: cloneState(env.state),
      branches: curNode.branches,
      parent: curNode.parent,
      hit: 0,
      miss: 0,
    };
    if (list === NO_STATES) explored.set(idx, [node]);
    else list.push(node);
    buckets[bucket] = (buckets[bucket] as number) + 1;
    totalStates++;
    liveStates++;
    peakStates = Math.max(peakStates, liveStates);
    curNode = { state: env.state, branches: 1, parent: node, hit: 0, miss: 0 };
    // the path goes on from the checkpoint with a history of its own and no inherited precision
    env.state.parent = node.state;
    env.state.dfsDepth = node.state.dfsDepth + 1;
    env.state.firstIdx = idx;
    env.state.history = [];
    markAllScalarsImprecise(env.state);
    return false;
  };

  /** find_prev_entry: the checkpoint at `idx` on the current path, of the same call chain (a loop's previous turn). */
  const previousIteration = (idx: number): VerifierState | undefined => {
    const list = explored.get(idx) ?? NO_STATES;
    const cur = env.state;
    for (let k = list.length - 1; k >= 0; k--) {
      const sl = list[k] as Node;
      const st = sl.state;
      if (sl.branches > 0 && st.dfsDepth < cur.dfsDepth && sameCallsites(st, cur)) return st;
    }
    return undefined;
  };

  const pushBranch = (state: VerifierState, insnIdx: number): void => {
    pending.push({ state, insnIdx, prevInsnIdx: env.insnIdx, logPos: log.endPos, parent: curNode.parent });
    if (curNode.parent) curNode.parent.branches++;
    if (pending.length > COMPLEXITY_LIMIT_JMP_SEQ) {
      throw new VerifierError(`The sequence of ${pending.length} jumps is too complex.`, 'E2BIG');
    }
  };

  /** Ends the current path; false when nothing is left to explore. */
  const popPath = (): boolean => {
    scratchAll(env);
    env.stackLive.commit();
    updateBranchCounts(curNode);
    // a path ended: the states it completed are compared with up-to-date stack liveness from now on
    env.stackLive.update();
    const next = pending.pop();
    if (!next) return false;
    if (!log.states) log.reset(next.logPos);
    env.state = next.state;
    env.insnIdx = next.insnIdx;
    env.prevInsnIdx = next.prevInsnIdx;
    curNode = { state: env.state, branches: 1, parent: next.parent, hit: 0, miss: 0 };
    doPrintState = true;
    return true;
  };

  const printState = (all: boolean): string => {
    const f = curFrame(env.state);
    return frameToString(
      f,
      all ? undefined : env.scratch,
      env.state.refs.map((r) => r.id),
    );
  };

  try {
    for (;;) {
      const idx = env.insnIdx;
      const slot = prog[idx] as ProgSlot;
      if (++processed > COMPLEXITY_LIMIT_INSNS) {
        throw new VerifierError(`BPF program is too large. Processed ${processed} insn`, 'E2BIG');
      }
      env.curHist = undefined;
      env.state.lastIdx = env.prevInsnIdx;
      if (cfg.prunePoints[idx] && stateVisited(idx)) {
        if (log.verbose) {
          log.write(doPrintState ? `\nfrom ${env.prevInsnIdx} to ${idx}: safe\n` : `${idx}: safe\n`);
        }
        if (!popPath()) break;
        continue;
      }
      if (isJmpStep(idx)) pushHistory(env, 0);
      if (log.states && doPrintState) {
        log.write(`\nfrom ${env.prevInsnIdx} to ${idx}:${printState(true)}\n`);
        doPrintState = false;
      }
      if (log.verbose) {
        if (env.scratch.regs.size || env.scratch.slots.size) {
          log.beginInsnState(idx);
          log.write(`${printState(false)}\n`);
          clearScratch(env);
        }
        log.insnLine(idx, insnText(slot, env.helperName));
      }
      if (slotChecked[idx] === 0) {
        const problem = checkSlot(slot.raw, prog[idx + 1]?.raw);
        if (problem || !slot.insn)
          throw new VerifierError(problem?.message ?? `unknown opcode ${slot.raw.code.toString(16)}`, 'EINVAL');
        slotChecked[idx] = 1;
      }
      const insn = slot.insn as Insn;
      const s = insn.spec;
      env.prevInsnIdx = idx;
      env.stackLive.commit();
      env.stackLive.begin(idx);
      const cls = classOf(s.code);
      if (cls === Class.JMP || cls === Class.JMP32) jmpsProcessed++;
      switch (s.kind) {
        case 'alu':
        case 'neg':
        case 'end':
          checkAlu(env, insn);
          env.insnIdx++;
          break;
        case 'ldx':
          checkLoad(env, insn);
          env.insnIdx++;
          break;
        case 'st':
        case 'stx':
          checkStore(env, insn);
          env.insnIdx++;
          break;
        case 'atomic':
          checkAtomic(env, insn);
          env.insnIdx++;
          break;
        case 'lddw':
          checkLdImm(env, insn);
          env.insnIdx += 2;
          break;
        case 'ldabs':
        case 'ldind':
          checkLdAbs(env, insn);
          env.insnIdx++;
          break;
        case 'ja':
          env.insnIdx += insn.off + 1;
          break;
        case 'ja32':
          env.insnIdx += insn.imm + 1;
          break;
        case 'jmp': {
          const out = checkCondJmp(env, insn);
          if (out.other) pushBranch(out.other, idx + insn.off + 1);
          if (log.verbose) {
            log.beginInsnState(idx);
            log.write(`${printState(false)}\n`);
            clearScratch(env);
          }
          env.insnIdx = out.next;
          break;
        }
        case 'call':
          if (s.op === 'local') {
            enterSubprog(env, insn);
            break;
          }
          if (s.op === 'kfunc')
            throw new VerifierError('kfunc calls are not modelled by this verifier yet', 'ENOTSUPP');
          {
            const out = checkHelperCall(env, insn);
            if (out.callback) pushBranch(out.callback, out.callbackStart);
          }
          env.insnIdx++;
          break;
        case 'exit':
          if (env.state.frames.length > 1) {
            const fromCallback = curFrame(env.state).inCallback;
            leaveSubprog(env);
            if (fromCallback) {
              const prev = previousIteration(env.insnIdx);
              if (prev) widenImpreciseScalars(prev, env.state);
            }
            doPrintState = true;
            break;
          }
          checkMainExit(env);
          if (!popPath()) throw DONE;
          break;
        default:
          throw new VerifierError(`unknown opcode ${s.code.toString(16).padStart(2, '0')}`, 'EINVAL');
      }
    }
  } catch (e) {
    if (e !== DONE) {
      if (e instanceof VerifierError) return fail(env.insnIdx, e, cloneState(env.state));
      throw e;
    }
  }
  if (log.verbose && !log.states) log.reset(0);
  try {
    checkMaxStackDepth(prog, cfg.subprogs, stackDepth, usesPrivateStack(options.policy, prog));
  } catch (e) {
    if (e instanceof VerifierError) return fail(0, e, undefined);
    throw e;
  }
  finishLog();
  return {
    accepted: true,
    error: undefined,
    log: log.toString(),
    stats: { insnProcessed: processed, maxStatesPerInsn: maxPer, totalStates, peakStates, stackDepth },
    summary: summarizeLog(log.toString()),
  };
};

const DONE = Symbol('done');

const sameCallsites = (a: VerifierState, b: VerifierState): boolean =>
  a.frames.length === b.frames.length && a.frames.every((f, i) => f.callsite === b.frames[i]?.callsite);
/** The state list of an instruction without checkpoints yet (never written: a list is made on the first). */
const NO_STATES: Node[] = [];

/** bpf_enable_priv_stack: tracing programs (not iterators) on x86-64, unless a tail call is made. */
const usesPrivateStack = (policy: ProgramPolicy, prog: readonly ProgSlot[]): boolean =>
  policy.progType === 26 &&
  !prog.some((s) => !s.continuation && s.raw.code === 0x85 && s.raw.src === 0 && s.raw.imm === BPF_FUNC.tail_call);
