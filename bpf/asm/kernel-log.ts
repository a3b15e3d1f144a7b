/**
 * Instructions as the Linux verifier log prints them (kernel/bpf/disasm.c, Linux 6.18), e.g.
 * `0: (b7) r0 = 0`, `3: (7b) *(u64 *)(r10 -8) = r1`, `5: (15) if r0 == 0x0 goto pc+1`,
 * `4: (85) call bpf_map_lookup_elem#1`, `9: (85) call pc+3`. bpftool's `prog dump xlated` uses the
 * same printer with its own callbacks (`r1 = map[id:5]`), which the options here stand in for.
 */
import { helperName as abiHelperName } from '../abi/index.ts';
import { type AluName, type AtomicName, type CondName, type Insn, imm64Of, LdImmSrc, slotIndex } from '../isa/index.ts';
import { ALU_OPERATOR, ATOMIC_OPERATOR, COND_OPERATOR, memType } from './llvm/syntax.ts';

export interface KernelLogOptions {
  /**
   * Name of helper `id` as the kernel's table has it (`bpf_map_lookup_elem`); undefined or 'unknown'
   * when the kernel has no such helper (the log then says `call unknown#id`). Default: bpf/abi's
   * table of the simulated kernel (Linux's helpers plus the proposal's).
   */
  readonly helperName?: (id: number) => string | undefined;
  /** Name of a kfunc call's target (the kernel looks it up in BTF); default `kernel-function`. */
  readonly kfuncName?: (insn: Insn) => string | undefined;
  /** Text of a 64-bit immediate load's value (bpftool prints `map[id:5]`); default `0x` + hex. */
  readonly imm64?: (insn: Insn, value: bigint) => string;
  /**
   * Show map/BTF pointer values of lddw (the kernel's allow_ptr_leaks: root or CAP_PERFMON).
   * When false they print as 0x0. Default true.
   */
  readonly allowPtrLeaks?: boolean;
  /** Prefix each line with `N: `, the slot index (as the verifier log does). Default true. */
  readonly index?: boolean;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
/** printf's `%+d`. */
const plus = (n: number): string => (n >= 0 ? `+${n}` : `${n}`);
const reg = (n: number, wide: boolean): string => `${wide ? 'r' : 'w'}${n}`;
const mem = (base: number, off: number): string => `r${base} ${plus(off)}`;

const POINTER_SOURCES: ReadonlySet<number> = new Set([
  LdImmSrc.MAP_FD,
  LdImmSrc.MAP_VALUE,
  LdImmSrc.MAP_IDX,
  LdImmSrc.MAP_IDX_VALUE,
  LdImmSrc.BTF_ID,
]);

const aluText = (insn: Insn): string => {
  const { spec } = insn;
  const wide = spec.width === 64;
  const op = spec.op as AluName;
  const dst = reg(insn.dst, wide);
  if (op === 'movsx') return `${dst} = (s${spec.size * 8})${reg(insn.src, wide)}`;
  const rhs = spec.source === 'X' ? reg(insn.src, wide) : `${insn.imm}`;
  return `${dst} ${ALU_OPERATOR[op]} ${rhs}`;
};

const atomicText = (insn: Insn): string => {
  const { spec } = insn;
  const op = spec.op as AtomicName;
  const type = memType(spec.size);
  const bits = spec.width === 64 ? '64' : '';
  const addr = mem(insn.dst, insn.off);
  const simple = ATOMIC_OPERATOR[op];
  if (simple !== undefined) return `lock *(${type} *)(${addr}) ${simple} r${insn.src}`;
  if (op === 'cmpxchg') return `r0 = atomic${bits}_cmpxchg((${type} *)(${addr}), r0, r${insn.src})`;
  if (op === 'xchg') return `r${insn.src} = atomic${bits}_xchg((${type} *)(${addr}), r${insn.src})`;
  return `r${insn.src} = atomic${bits}_${op}((${type} *)(${addr}), r${insn.src})`;
};

const helperText = (id: number, opts: KernelLogOptions): string => (opts.helperName ?? abiHelperName)(id) ?? 'unknown';

const callText = (insn: Insn, opts: KernelLogOptions): string => {
  switch (insn.spec.op) {
    case 'local':
      return `call pc${plus(insn.imm)}`;
    case 'kfunc':
      return `call ${opts.kfuncName?.(insn) ?? 'kernel-function'}#${insn.imm}`;
    default:
      return `call ${helperText(insn.imm, opts)}#${insn.imm}`;
  }
};

/** The text after `(code) ` for one instruction. */
export const kernelInsnText = (insn: Insn, opts: KernelLogOptions = {}): string => {
  const { spec } = insn;
  const type = memType(spec.size, spec.signed);
  switch (spec.kind) {
    case 'alu':
      return aluText(insn);
    case 'neg': {
      const r = reg(insn.dst, spec.width === 64);
      return `${r} = -${r}`;
    }
    case 'end':
      return `r${insn.dst} = ${spec.op}${spec.size * 8} r${insn.dst}`;
    case 'lddw': {
      const hide = POINTER_SOURCES.has(insn.src) && opts.allowPtrLeaks === false;
      const value = hide ? 0n : imm64Of(insn);
      return `r${insn.dst} = ${opts.imm64 ? opts.imm64(insn, value) : `0x${value.toString(16)}`}`;
    }
    case 'ldabs':
      return `r0 = *(${type} *)skb[${insn.imm}]`;
    case 'ldind':
      return `r0 = *(${type} *)skb[r${insn.src} + ${insn.imm}]`;
    case 'ldx':
      return `r${insn.dst} = *(${type} *)(${mem(insn.src, insn.off)})`;
    case 'stx':
      return `*(${type} *)(${mem(insn.dst, insn.off)}) = r${insn.src}`;
    case 'st':
      return `*(${type} *)(${mem(insn.dst, insn.off)}) = ${insn.imm}`;
    case 'atomic':
      return atomicText(insn);
    case 'jmp': {
      const wide = spec.width === 64;
      const rhs = spec.source === 'X' ? reg(insn.src, wide) : `0x${(insn.imm >>> 0).toString(16)}`;
      return `if ${reg(insn.dst, wide)} ${COND_OPERATOR[spec.op as CondName]} ${rhs} goto pc${plus(insn.off)}`;
    }
    case 'ja':
      return `goto pc${plus(insn.off)}`;
    case 'ja32':
      return `gotol pc${plus(insn.imm)}`;
    case 'call':
      return callText(insn, opts);
    case 'callx':
      // The kernel has no callx: its printer takes 0x8d for a helper call with the insn's imm.
      return `call ${helperText(insn.imm, opts)}#${insn.imm}`;
    case 'exit':
      return 'exit';
    case 'jcond':
      return `may_goto pc${plus(insn.off)}`;
  }
};

/** One log line for one instruction at slot `pc`: `pc: (code) text`. */
export const kernelLogLine = (insn: Insn, pc: number, opts: KernelLogOptions = {}): string => {
  const body = `(${hex2(insn.spec.code)}) ${kernelInsnText(insn, opts)}`;
  return opts.index === false ? body : `${pc}: ${body}`;
};

/** The verifier-log lines of a program, one per instruction. */
export const disassembleKernel = (insns: readonly Insn[], opts: KernelLogOptions = {}): string[] => {
  const { pcs } = slotIndex(insns);
  return insns.map((insn, i) => kernelLogLine(insn, pcs[i] as number, opts));
};
