/**
 * Static checks before path exploration, in the kernel's order and words: subprogram discovery
 * (add_subprog_and_kfunc), per-subprogram jump ranges and last instructions (check_subprogs), opcode
 * and lddw checks (resolve_pseudo_ldimm64), and the depth-first CFG walk (check_cfg) that finds
 * unreachable code, back-edges and the prune points.
 */
import { CallSrc, Class, classOf, isKnownOpcode, JmpOp, Mask, Mode, Size } from '../../bpf/isa/index.ts';
import { isLddw, type ProgSlot } from './program.ts';

export interface CfgInfo {
  /** Subprogram start indices, sorted; [0] is the main program. */
  readonly subprogs: readonly number[];
  /** Instructions where is_state_visited runs. */
  readonly prunePoints: Uint8Array;
  /** Instructions that always get a checkpoint (callback-calling calls). */
  readonly forceCheckpoints: Uint8Array;
}

export class CfgError extends Error {
  override readonly name = 'CfgError';
  readonly insnIdx: number;
  constructor(insnIdx: number, message: string) {
    super(message);
    this.insnIdx = insnIdx;
  }
}

const MAX_SUBPROGS = 256;
const JMP_CALL = Class.JMP | JmpOp.CALL;
const isJmpClass = (code: number): boolean => classOf(code) === Class.JMP || classOf(code) === Class.JMP32;
const isPseudoCall = (s: ProgSlot): boolean => s.raw.code === JMP_CALL && s.raw.src === CallSrc.LOCAL;
const isPseudoFunc = (s: ProgSlot): boolean => isLddw(s) && s.raw.src === 4;

/** add_subprog_and_kfunc: subprogram entries from pseudo calls and callback addresses. */
const findSubprogs = (prog: readonly ProgSlot[]): number[] => {
  const starts = new Set<number>([0]);
  prog.forEach((s, i) => {
    if (s.continuation) return;
    if (!isPseudoCall(s) && !isPseudoFunc(s)) return;
    const target = i + s.raw.imm + 1;
    if (target < 0 || target >= prog.length) throw new CfgError(i, 'call to invalid destination');
    starts.add(target);
    if (starts.size > MAX_SUBPROGS) throw new CfgError(i, 'too many subprograms');
  });
  return [...starts].sort((a, b) => a - b);
};

/** check_subprogs: jumps stay inside their subprogram; each ends with exit or goto. */
const checkSubprogs = (prog: readonly ProgSlot[], subprogs: readonly number[]): void => {
  let cur = 0;
  let start = 0;
  let end = subprogs[1] ?? prog.length;
  for (let i = 0; i < prog.length; i++) {
    const code = prog[i]?.raw.code ?? 0;
    const op = code & Mask.OP;
    if (isJmpClass(code) && op !== JmpOp.EXIT && op !== JmpOp.CALL) {
      const raw = prog[i]?.raw;
      const off = code === (Class.JMP32 | JmpOp.JA) ? (raw?.imm ?? 0) : (raw?.off ?? 0);
      const target = i + off + 1;
      if (target < start || target >= end) throw new CfgError(i, `jump out of range from insn ${i} to ${target}`);
    }
    if (i === end - 1) {
      if (code !== (Class.JMP | JmpOp.EXIT) && code !== (Class.JMP32 | JmpOp.JA) && code !== (Class.JMP | JmpOp.JA)) {
        throw new CfgError(i, 'last insn is not an exit or jmp');
      }
      start = end;
      cur++;
      end = subprogs[cur + 1] ?? prog.length;
    }
  }
};

/** resolve_pseudo_ldimm64's per-instruction checks (map references are resolved by the caller). */
const checkOpcodes = (prog: readonly ProgSlot[], mapCount: number): void => {
  for (let i = 0; i < prog.length; i++) {
    const s = prog[i] as ProgSlot;
    const r = s.raw;
    if (
      classOf(r.code) === Class.LDX &&
      (((r.code & Mask.MODE) !== Mode.MEM && (r.code & Mask.MODE) !== Mode.MEMSX) || r.imm !== 0)
    ) {
      throw new CfgError(i, 'BPF_LDX uses reserved fields');
    }
    if (r.code === (Class.LD | Mode.IMM | Size.DW)) {
      const next = prog[i + 1];
      if (
        next === undefined ||
        !next.continuation ||
        next.raw.code !== 0 ||
        next.raw.dst !== 0 ||
        next.raw.src !== 0 ||
        next.raw.off !== 0
      ) {
        throw new CfgError(i, 'invalid bpf_ld_imm64 insn');
      }
      const src = r.src;
      if (src === 1 || src === 2 || src === 5 || src === 6) {
        if (r.imm < 0 || r.imm >= mapCount) {
          throw new CfgError(
            i,
            src === 1 || src === 2 ? `fd ${r.imm} is not pointing to valid bpf_map` : `map index ${r.imm} out of range`,
          );
        }
      } else if (src !== 0 && src !== 3 && src !== 4) {
        throw new CfgError(i, 'unrecognized bpf_ld_imm64 insn');
      }
      i++;
      continue;
    }
    if (!isKnownOpcode(r.code)) {
      throw new CfgError(i, `unknown opcode ${r.code.toString(16).padStart(2, '0')}`);
    }
  }
};

const DISCOVERED = 0x10;
const EXPLORED = 0x20;
const FALLTHROUGH = 1;
const BRANCH = 2;

/** check_cfg: iterative DFS over the instruction graph. */
const walkCfg = (
  prog: readonly ProgSlot[],
  privileged: boolean,
  isCallbackCall: (s: ProgSlot) => boolean,
): [Uint8Array, Uint8Array] => {
  const n = prog.length;
  const state = new Uint8Array(n);
  const prune = new Uint8Array(n);
  const force = new Uint8Array(n);
  const stack: number[] = [0];
  state[0] = DISCOVERED;

  const push = (t: number, w: number, e: number): 0 | 1 => {
    const st = state[t] as number;
    if (e === FALLTHROUGH && st >= (DISCOVERED | FALLTHROUGH)) return 0;
    if (e === BRANCH && st >= (DISCOVERED | BRANCH)) return 0;
    if (w < 0 || w >= n) throw new CfgError(t, `jump out of range from insn ${t} to ${w}`);
    if (e === BRANCH) prune[w] = 1;
    const sw = state[w] as number;
    if (sw === 0) {
      state[t] = DISCOVERED | e;
      state[w] = DISCOVERED;
      stack.push(w);
      return 1;
    }
    if ((sw & 0xf0) === DISCOVERED) {
      if (privileged) return 0;
      throw new CfgError(t, `back-edge from insn ${t} to ${w}`);
    }
    state[t] = DISCOVERED | e;
    return 0;
  };

  const visitCall = (t: number, visitCallee: boolean): 0 | 1 => {
    const sz = isLddw(prog[t] as ProgSlot) ? 2 : 1;
    const r = push(t, t + sz, FALLTHROUGH);
    if (r) return r;
    prune[t + sz] = 1;
    if (visitCallee) {
      prune[t] = 1;
      return push(t, t + (prog[t] as ProgSlot).raw.imm + 1, BRANCH);
    }
    return 0;
  };

  const visit = (t: number): 0 | 1 => {
    const s = prog[t] as ProgSlot;
    const code = s.raw.code;
    if (isPseudoFunc(s)) return visitCall(t, true);
    if (!isJmpClass(code)) return push(t, t + (isLddw(s) ? 2 : 1), FALLTHROUGH);
    switch (code & Mask.OP) {
      case JmpOp.EXIT:
        return 0;
      case JmpOp.CALL:
        if (isCallbackCall(s)) {
          force[t] = 1;
          prune[t] = 1;
        }
        return visitCall(t, s.raw.src === CallSrc.LOCAL);
      case JmpOp.JA: {
        const off = classOf(code) === Class.JMP ? s.raw.off : s.raw.imm;
        const r = push(t, t + off + 1, FALLTHROUGH);
        if (r) return r;
        prune[t + off + 1] = 1;
        return 0;
      }
      default: {
        prune[t] = 1;
        const r = push(t, t + 1, FALLTHROUGH);
        if (r) return r;
        return push(t, t + s.raw.off + 1, BRANCH);
      }
    }
  };

  while (stack.length > 0) {
    const t = stack[stack.length - 1] as number;
    if (visit(t) === 0) {
      state[t] = EXPLORED;
      stack.pop();
    }
  }
  for (let i = 0; i < n; i++) {
    if (state[i] !== EXPLORED) throw new CfgError(i, `unreachable insn ${i}`);
    if (isLddw(prog[i] as ProgSlot)) {
      if (state[i + 1] !== 0) throw new CfgError(i, `jump into the middle of ldimm64 insn ${i}`);
      i++;
    }
  }
  return [prune, force];
};

export interface CfgOptions {
  readonly privileged: boolean;
  readonly mapCount: number;
  /** Calls whose helper invokes a callback (bpf_loop): checkpoints are forced there. */
  readonly isCallbackCall: (s: ProgSlot) => boolean;
  /** Told the subprograms' starts once found (the log lists them before any later check fails). */
  readonly onSubprogs?: (starts: readonly number[]) => void;
}

/** All static checks; throws CfgError with the kernel's message and instruction index. */
export const analyzeCfg = (prog: readonly ProgSlot[], opts: CfgOptions): CfgInfo => {
  const subprogs = findSubprogs(prog);
  opts.onSubprogs?.(subprogs);
  checkSubprogs(prog, subprogs);
  checkOpcodes(prog, opts.mapCount);
  const [prunePoints, forceCheckpoints] = walkCfg(prog, opts.privileged, opts.isCallbackCall);
  return { subprogs, prunePoints, forceCheckpoints };
};
