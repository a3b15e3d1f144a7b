/**
 * Helper calls (check_helper_call) against the prototypes of bpf/abi: availability for the program
 * type, GPL and sleepable checks, arguments, raw-mode stack marking, reference release, callbacks
 * (bpf_loop), caller-saved registers, R0 from the return type, reference acquisition and the
 * map/helper compatibility table.
 */
import {
  BPF_FUNC,
  BPF_MAP_TYPE,
  bootResource,
  funcProtoProblems,
  HELPER_ID_LIMIT,
  type HelperProto,
  helperById,
  helperName,
  misconfiguredMessage,
  resolveRet,
} from '../../../bpf/abi/index.ts';
import type { Insn } from '../../../bpf/isa/index.ts';
import { syncBounds } from '../domain/bounds.ts';
import { tnumIsConst } from '../domain/tnum.ts';
import { markRegPrecise } from '../precision.ts';
import { cloneState, curFrame, updateRegs, type VerifierState } from '../state/frame.ts';
import {
  assignReg,
  isPktPointerAny,
  makeReg,
  markNotInit,
  markScalarUnknown,
  RegFlag,
  type RegState,
} from '../state/reg.ts';
import { type CallMeta, checkFuncArg, newCallMeta, registerIsNull } from './args.ts';
import { checkRegArg, cur, type Env, reg, VerifierError } from './env.ts';
import { checkMemAccess } from './mem.ts';
import { setupFuncEntry } from './subprog.ts';

const MAX_ERRNO = 4095n;

export interface HelperOutcome {
  /** A callback state (bpf_loop) to explore later, starting at the callback's first instruction. */
  readonly callback: VerifierState | undefined;
  readonly callbackStart: number;
}

type Availability = 'yes' | 'no-proto' | 'not-allowed';

/** get_func_proto of the program type plus the prototype's allowed() callback. */
const availability = (fn: HelperProto, env: Env): Availability => {
  const p = env.policy;
  switch (fn.scope.progTypes) {
    case 'all':
      return 'yes';
    case 'tracing':
      return p.helpers === 'tracing' ? 'yes' : 'no-proto';
    case 'kexec-hook':
      if (p.progType !== 26) return 'no-proto';
      return fn.scope.hooks.includes(p.attachTarget ?? '') ? 'yes' : 'not-allowed';
    case 'net':
      return fn.scope.types.includes(p.progType) ? 'yes' : 'no-proto';
  }
};

/** clear_all_pkt_pointers: after a helper that moves the packet, no packet pointer is valid any more. */
const clearAllPktPointers = (env: Env): void => {
  updateRegs(env.state, isPktPointerAny, (r) => {
    if (env.privileged) markScalarUnknown(r);
    else markNotInit(r);
  });
};

/** check_map_func_compatibility: special map types only go to their helpers, and back. */
const MAP_ONLY_FUNCS: ReadonlyMap<number, readonly number[]> = new Map([
  [BPF_MAP_TYPE.RINGBUF, [BPF_FUNC.ringbuf_output, BPF_FUNC.ringbuf_reserve, BPF_FUNC.ringbuf_query]],
  [BPF_MAP_TYPE.PROG_ARRAY, [BPF_FUNC.tail_call]],
]);
const FUNC_ONLY_MAPS: ReadonlyMap<number, readonly number[]> = new Map([
  [BPF_FUNC.ringbuf_output, [BPF_MAP_TYPE.RINGBUF]],
  [BPF_FUNC.ringbuf_reserve, [BPF_MAP_TYPE.RINGBUF]],
  [BPF_FUNC.ringbuf_query, [BPF_MAP_TYPE.RINGBUF]],
  [BPF_FUNC.tail_call, [BPF_MAP_TYPE.PROG_ARRAY]],
]);

const checkMapFuncCompatibility = (meta: CallMeta, id: number): void => {
  const map = meta.mapPtr;
  if (!map) return;
  const onlyFuncs = MAP_ONLY_FUNCS.get(map.type);
  const onlyMaps = FUNC_ONLY_MAPS.get(id);
  if ((onlyFuncs && !onlyFuncs.includes(id)) || (onlyMaps && !onlyMaps.includes(map.type))) {
    throw new VerifierError(`cannot pass map_type ${map.type} into func ${helperName(id)}#${id}`, 'EINVAL');
  }
};

/** release_reference: drop the reference and invalidate every copy of the pointer. */
const releaseReference = (env: Env, refObjId: number): boolean => {
  const s = env.state;
  const at = s.refs.findIndex((r) => r.id === refObjId);
  if (at < 0) return false;
  s.refs.splice(at, 1);
  updateRegs(
    s,
    (r) => r.refObjId === refObjId,
    (r) => {
      if (env.privileged) markScalarUnknown(r);
      else markNotInit(r);
    },
  );
  return true;
};

/** set_loop_callback_state: callback_fn(u32 index, void *ctx) returning 0 or 1. */
const loopCallbackState = (state: VerifierState, subprogno: number, callsite: number, env: Env): void => {
  const callerRegs = curFrame(state).regs;
  const callee = setupFuncEntry(env, state, subprogno, callsite);
  const r1 = callee.regs[1] as RegState;
  markScalarUnknown(r1);
  assignReg(callee.regs[2] as RegState, callerRegs[3] as RegState);
  callee.inCallback = true;
  callee.callbackRetRange = [0, 1];
};

/** The resource name a carrier call names (the proposal checks it at load time). */
const checkCarrierName = (meta: CallMeta): void => {
  if (meta.constStr === undefined) return;
  if (!bootResource(meta.constStr)) {
    throw new VerifierError(`bpf_helper_carrier: unknown resource name '${meta.constStr}'`, 'EINVAL');
  }
};

/**
 * update_loop_inline_state: a bpf_loop call stays fit to be inlined while its flags (R4) are a known
 * zero and its callback the same; the kernel relies on that zero, so R4 is made precise.
 */
const updateLoopInline = (env: Env, insnIdx: number, subprogno: number): void => {
  const r4 = reg(env, 4);
  const zero = (): boolean => {
    const z = registerIsNull(r4);
    if (z) markRegPrecise(env, 4);
    return z;
  };
  const st = env.loopInline.get(insnIdx);
  if (st === undefined) env.loopInline.set(insnIdx, { fit: zero(), subprogno });
  else if (st.fit) st.fit = zero() && st.subprogno === subprogno;
};

/** record_func_key: a tail call's constant in-range index is relied upon (the call is direct). */
const recordFuncKey = (env: Env, id: number, meta: CallMeta): void => {
  if (id !== BPF_FUNC.tail_call || meta.mapPtr?.type !== BPF_MAP_TYPE.PROG_ARRAY) return;
  const r3 = reg(env, 3);
  if (r3.type !== 'scalar' || !tnumIsConst(r3.b.varOff)) return;
  if (r3.b.varOff.value < BigInt(meta.mapPtr.maxEntries)) markRegPrecise(env, 3);
};

/** R0 after the call, from the prototype's return type (the switch on base_type(ret_type)). */
const setReturn = (env: Env, fn: HelperProto, meta: CallMeta, insnIdx: number): void => {
  const r0 = reg(env, 0);
  const { base, flags } = resolveRet(fn.ret);
  const retFlags =
    (flags.has('PTR_MAYBE_NULL') ? RegFlag.MAYBE_NULL : 0) | (flags.has('MEM_RINGBUF') ? RegFlag.RINGBUF : 0);
  switch (base) {
    case 'RET_INTEGER':
      markScalarUnknown(r0);
      break;
    case 'RET_VOID':
      markNotInit(r0);
      break;
    case 'RET_PTR_TO_MAP_VALUE':
      if (!meta.mapPtr) throw new VerifierError('kernel subsystem misconfigured verifier', 'EINVAL');
      assignReg(
        r0,
        makeReg('map_value', {
          map: meta.mapPtr,
          flags:
            fn.id === BPF_FUNC.map_lookup_elem &&
            meta.constMapKey >= 0n &&
            meta.constMapKey < BigInt(meta.mapPtr.maxEntries)
              ? retFlags & ~RegFlag.MAYBE_NULL
              : retFlags,
        }),
      );
      break;
    case 'RET_PTR_TO_MEM':
      assignReg(r0, makeReg('mem', { flags: retFlags, memSize: meta.memSize }));
      break;
    default:
      throw new VerifierError(`helper return type ${base} is not modelled by this verifier yet`, 'ENOTSUPP');
  }
  if (r0.flags & RegFlag.MAYBE_NULL) r0.id = ++env.idGen;
  if (fn.id === BPF_FUNC.ringbuf_reserve) {
    // acquire_reference: the id doubles as the null-check id.
    const id = ++env.idGen;
    env.state.refs.push({ id, insnIdx });
    r0.id = id;
    r0.refObjId = id;
  }
  // do_refine_retval_range
  if (fn.id === BPF_FUNC.get_smp_processor_id) {
    const top = BigInt(env.nrCpuIds - 1);
    Object.assign(r0.b, { umin: 0n, u32min: 0n, smin: 0n, s32min: 0n, umax: top, u32max: top, smax: top, s32max: top });
    syncBounds(r0.b);
  } else if (fn.id === BPF_FUNC.probe_read_kernel_str && base === 'RET_INTEGER') {
    r0.b.smax = r0.b.s32max = meta.msizeMaxValue;
    r0.b.smin = r0.b.s32min = -MAX_ERRNO;
    syncBounds(r0.b);
  }
};

/** check_func_proto, once per prototype (prototypes are static tables, so the answer never changes). */
const protoChecked = new WeakMap<HelperProto, boolean>();
const protoWellFormed = (fn: HelperProto): boolean => {
  let ok = protoChecked.get(fn);
  if (ok === undefined) {
    ok = funcProtoProblems(fn).length === 0;
    protoChecked.set(fn, ok);
  }
  return ok;
};

/** check_helper_call */
export const checkHelperCall = (env: Env, insn: Insn): HelperOutcome => {
  const id = insn.imm;
  const insnIdx = env.insnIdx;
  const label = `${helperName(id)}#${id}`;
  if (id < 0 || id >= HELPER_ID_LIMIT) throw new VerifierError(`invalid func ${label}`, 'EINVAL');
  const fn = helperById(id);
  const avail = fn ? availability(fn, env) : 'no-proto';
  if (!fn || avail === 'no-proto') {
    throw new VerifierError(`program of this type cannot use helper ${label}`, 'EINVAL');
  }
  if (!env.gplCompatible && fn.gplOnly) {
    throw new VerifierError('cannot call GPL-restricted function from non-GPL compatible program', 'EINVAL');
  }
  if (avail === 'not-allowed') throw new VerifierError('helper call is not allowed in probe', 'EINVAL');
  if (!env.sleepable && fn.mightSleep) {
    throw new VerifierError('helper call might sleep in a non-sleepable prog', 'EINVAL');
  }
  if (!protoWellFormed(fn)) throw new VerifierError(misconfiguredMessage(fn), 'EINVAL');

  const meta = newCallMeta();
  for (let i = 0; i < 5; i++) checkFuncArg(env, i, meta, fn);
  recordFuncKey(env, id, meta);
  // Only the carrier's constant string names a boot resource (supplement_initrd's is a directory).
  if (id === BPF_FUNC.helper_carrier) checkCarrierName(meta);

  // Raw mode: the helper fills the bytes, so they become initialised (STACK_MISC).
  for (let i = 0; i < meta.accessSize; i++) {
    checkMemAccess(env, meta.regno, i, 1, 'write', undefined, undefined, undefined);
  }

  if (meta.releaseRegno) {
    const ok = meta.refObjId ? releaseReference(env, meta.refObjId) : registerIsNull(reg(env, meta.releaseRegno));
    if (!ok) throw new VerifierError(`func ${label} reference has not been acquired before`, 'EINVAL');
  }

  let callback: VerifierState | undefined;
  let callbackStart = -1;
  if (id === BPF_FUNC.loop) {
    updateLoopInline(env, insnIdx, meta.subprogno ?? 0);
    // whether this is the last iteration depends on R1 (nr_loops)
    markRegPrecise(env, 1);
    const f = cur(env);
    if (BigInt(f.callbackDepth) < reg(env, 1).b.umax) {
      const subprogno = meta.subprogno ?? 0;
      callback = cloneState(env.state);
      loopCallbackState(callback, subprogno, insnIdx, env);
      const frames = callback.frames;
      const caller = frames[frames.length - 2];
      if (caller) caller.callbackDepth++;
      callback.callbackUnrollDepth++;
      callbackStart = env.cfg.subprogs[subprogno] ?? 0;
      f.callbackDepth = 0;
    } else {
      f.callbackDepth = 0;
      if (env.log.states) env.log.write(`frame${env.state.frames.length - 1} bpf_loop iteration limit reached\n`);
    }
  }

  for (let i = 0; i <= 5; i++) {
    markNotInit(reg(env, i));
    checkRegArg(env, i, 'dst_no_mark');
  }
  setReturn(env, fn, meta, insnIdx);
  checkMapFuncCompatibility(meta, id);
  if (fn.changesPktData) clearAllPktPointers(env);
  return { callback, callbackStart };
};
