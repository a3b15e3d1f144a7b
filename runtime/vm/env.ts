/**
 * What the interpreter offers helpers and kfuncs, and what the host offers the interpreter: helper and
 * kfunc registries (helper models come from runtime/helpers) and the resolver of lddw pseudo sources.
 */
import type { LddwName } from '../../bpf/isa/index.ts';
import type { Memory } from './memory.ts';

/** The machine state a helper sees during a call. One object per VM (the VM itself): no allocation per call. */
export interface HelperEnv {
  /** Register file as int32 pairs: R(i) is (regs[2i] lo, regs[2i+1] hi). */
  readonly regs: Int32Array;
  readonly memory: Memory;
  /** Slot index of the call instruction. */
  readonly pc: number;
  /** R(i) as an unsigned bigint. */
  arg(i: number): bigint;
  /** Sets R0 (taken mod 2^64). */
  setReturn(value: bigint): void;
  /** Ends the program after this call, returning the current R0 (uBPF's "unwind"). */
  halt(): void;
  /**
   * Runs the bpf subprogram at code address `target` (as lddw src 4 gives it) with R1.. = `args` in a new
   * frame, on the run's instruction budget, and returns its R0; the caller's registers are restored.
   * This is how callback-taking helpers (bpf_loop) call back into the program.
   */
  callFunction(target: bigint, args: readonly bigint[]): bigint;
}

export type HelperFn = (env: HelperEnv) => void;

export interface HelperRegistry {
  /** The helper with this static id (CALL imm, src 0), or undefined. */
  helper(id: number): HelperFn | undefined;
}

export interface Kfunc {
  readonly name: string;
  readonly fn: HelperFn;
}

export interface KfuncRegistry {
  /** The kfunc with this BTF id (CALL imm, src 2); `module` is the insn's off (0 = vmlinux). */
  kfunc(btfId: number, module: number): Kfunc | undefined;
}

/**
 * Resolves a lddw pseudo source (map fd/idx, map value, BTF variable) to the 64-bit value the register
 * gets, e.g. a map handle or the address of a map value region; undefined when it cannot.
 * `func` (code address) is resolved by the loader itself.
 */
export type LddwResolver = (kind: LddwName, imm: number, imm2: number) => bigint | undefined;

/** A helper registry over a plain table. */
export class HelperTable implements HelperRegistry {
  readonly #fns: Map<number, HelperFn>;
  constructor(entries: Iterable<readonly [number, HelperFn]> = []) {
    this.#fns = new Map(entries);
  }
  set(id: number, fn: HelperFn): this {
    this.#fns.set(id, fn);
    return this;
  }
  helper(id: number): HelperFn | undefined {
    return this.#fns.get(id);
  }
}

/** A kfunc registry by name, with the BTF id → name table of the loaded object. */
export class KfuncTable implements KfuncRegistry {
  readonly #byName: Map<string, HelperFn>;
  readonly #names: Map<number, string>;
  constructor(byName: Iterable<readonly [string, HelperFn]>, btfIdToName: Iterable<readonly [number, string]>) {
    this.#byName = new Map(byName);
    this.#names = new Map(btfIdToName);
  }
  kfunc(btfId: number, module: number): Kfunc | undefined {
    if (module !== 0) return undefined;
    const name = this.#names.get(btfId);
    const fn = name === undefined ? undefined : this.#byName.get(name);
    return name === undefined || fn === undefined ? undefined : { name, fn };
  }
}
