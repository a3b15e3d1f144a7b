/**
 * Loading: structural checks (uBPF-style, in the kernel verifier's words where it has them) and
 * pre-decoding of `Insn[]` into flat typed arrays indexed by slot, so the dispatch loop reads
 * integers only. Immediates become constant registers (see uops.ts); jump targets are absolute slots;
 * helpers and kfuncs are looked up once here.
 */
import { type Insn, insnAtSlot, MAX_REG, slotIndex } from '../../bpf/isa/index.ts';
import { fromBigInt } from '../../bpf/u64.ts';
import type { HelperFn, HelperRegistry, KfuncRegistry, LddwResolver } from './env.ts';
import { VmError } from './errors.ts';
import { formatInsn } from './format.ts';
import { U, type Uop, uopOf } from './uops.ts';

/** Register-file slots: R0..R10 as int32 pairs; constant registers follow, two per slot. */
export const REG_WORDS = 2 * (MAX_REG + 1);
/** Code addresses (lddw src 4, callx targets): 0xffffffff_a0000000 + 8 * slot, like kernel text. */
export const CODE_HI = -1;
export const CODE_LO_BASE = 0xa0000000 | 0;
export const codeAddress = (slot: number): bigint => 0xffffffffa0000000n + BigInt(slot * 8);

export interface LoadOptions {
  readonly helpers?: HelperRegistry | undefined;
  readonly kfuncs?: KfuncRegistry | undefined;
  readonly resolveLddw?: LddwResolver | undefined;
}

export interface LoadedProgram {
  readonly insns: readonly Insn[];
  readonly slots: number;
  /** Slot → instruction index (-1 inside lddw). */
  readonly insnAt: Int32Array;
  /**
   * What the dispatch loop reads, four int32 per slot (plus one TRAP slot past the end): micro-op;
   * register-file index of dst (2 * dst; for ldabs/ldind the access size); index of the source operand
   * (2 * src, or the slot's constant register); then `off` for loads, stores, atomics and packet loads,
   * or the target slot of jumps and local calls, or the helper/kfunc index of calls (-1: unknown).
   */
  readonly code: Int32Array;
  /** Atomics: the operation (imm). */
  readonly atomicOp: Int32Array;
  /** Initial register file: zero registers followed by the constants. */
  readonly constants: Int32Array;
  /** Helpers and kfuncs referenced by CALL, indexed by the call's fourth code word. */
  readonly fns: readonly HelperFn[];
  /** Name of each entry of `fns`, for traces and errors. */
  readonly fnNames: readonly string[];
}

const WRITES_DST = new Set(['alu', 'neg', 'end', 'lddw', 'ldx']);

const bad = (slot: number, insn: Insn, detail: string): VmError =>
  new VmError('BAD_PROGRAM', detail, { pc: slot, insn: formatInsn(insn) });

export const loadProgram = (insns: readonly Insn[], opts: LoadOptions = {}): LoadedProgram => {
  if (insns.length === 0) throw new VmError('BAD_PROGRAM', 'empty program');
  const { pcs, slots } = slotIndex(insns);
  const insnAt = insnAtSlot(insns);
  const code = new Int32Array(4 * (slots + 1));
  for (let pc = 0; pc <= slots; pc++) code[4 * pc] = U.TRAP;
  const atomicOp = new Int32Array(slots + 1);
  const constants = new Int32Array(REG_WORDS + 2 * slots);
  const fns: HelperFn[] = [];
  const fnNames: string[] = [];
  const fnIndex = new Map<string, number>();
  const addFn = (key: string, name: string, fn: HelperFn | undefined): number => {
    if (fn === undefined) return -1;
    const known = fnIndex.get(key);
    if (known !== undefined) return known;
    fns.push(fn);
    fnNames.push(name);
    fnIndex.set(key, fns.length - 1);
    return fns.length - 1;
  };
  const target = (slot: number, insn: Insn, to: number): number => {
    if (to < 0 || to >= slots) throw bad(slot, insn, `jump out of range from insn ${slot} to ${to}`);
    if ((insnAt[to] as number) < 0) throw bad(slot, insn, `jump into the middle of ldimm64 insn ${to - 1}`);
    return to;
  };

  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i] as Insn;
    const pc = pcs[i] as number;
    const { spec } = insn;
    const k = REG_WORDS + 2 * pc;
    const at = 4 * pc;
    code[at] = uopOf(spec) satisfies Uop;
    code[at + 1] = 2 * insn.dst;
    code[at + 2] = spec.source === 'X' ? 2 * insn.src : k;
    code[at + 3] = insn.off;
    constants[k] = insn.imm;
    constants[k + 1] = insn.imm >> 31;
    const writesR10 =
      (WRITES_DST.has(spec.kind) && insn.dst === 10) ||
      (spec.kind === 'atomic' && insn.src === 10 && (spec.op.startsWith('fetch') || spec.op === 'xchg'));
    if (writesR10) throw bad(pc, insn, 'frame pointer is read only');
    switch (spec.kind) {
      case 'jmp':
      case 'ja':
        code[at + 3] = target(pc, insn, pc + 1 + insn.off);
        break;
      case 'ja32':
        code[at + 3] = target(pc, insn, pc + 1 + insn.imm);
        break;
      case 'ldabs':
      case 'ldind':
        code[at + 1] = spec.size;
        code[at + 2] = spec.kind === 'ldind' ? 2 * insn.src : k;
        constants[k] = 0;
        constants[k + 1] = 0;
        code[at + 3] = insn.imm;
        break;
      case 'atomic':
        atomicOp[pc] = insn.imm;
        break;
      case 'lddw': {
        let value: bigint | undefined;
        if (spec.op === 'imm64') value = (BigInt(insn.imm2 >>> 0) << 32n) | BigInt(insn.imm >>> 0);
        else if (spec.op === 'func') value = codeAddress(target(pc, insn, pc + 1 + insn.imm));
        else value = opts.resolveLddw?.(spec.op as Parameters<LddwResolver>[0], insn.imm, insn.imm2);
        if (value === undefined) {
          throw new VmError('UNRESOLVED_LDDW', `cannot resolve ${spec.name} ${insn.imm}`, {
            pc,
            insn: formatInsn(insn),
          });
        }
        fromBigInt(constants, k, value);
        break;
      }
      case 'call':
        if (spec.op === 'local') code[at + 3] = target(pc, insn, pc + 1 + insn.imm);
        else if (spec.op === 'helper')
          code[at + 3] = addFn(`h${insn.imm}`, `helper#${insn.imm}`, opts.helpers?.helper(insn.imm));
        else {
          const kf = opts.kfuncs?.kfunc(insn.imm, insn.off);
          code[at + 3] = addFn(`k${insn.imm}:${insn.off}`, kf?.name ?? '', kf?.fn);
        }
        break;
      default:
        break;
    }
  }
  return { insns, slots, insnAt, code, atomicOp, constants, fns, fnNames };
};

/** The instruction at a slot, disassembled (for errors and traces). */
export const insnTextAt = (prog: LoadedProgram, pc: number): string => {
  const i = prog.insnAt[pc];
  if (i === undefined) return pc === prog.slots ? '<end of program>' : '<out of program>';
  return i < 0 ? '<second half of lddw>' : formatInsn(prog.insns[i] as Insn);
};
