/**
 * The interpreter: one dispatch loop over the pre-decoded program (load.ts), registers as int32 pairs
 * in one Int32Array, 64-bit arithmetic through bpf/u64, every load and store checked against the region
 * its address selects (memory.ts). The loop allocates nothing; a run ends with R0 or a VmError.
 */
import {
  add64,
  arsh64,
  bswap16,
  bswap32,
  bswap64,
  divS32,
  divS64,
  divU32,
  divU64,
  fromBigInt,
  geS64,
  geU64,
  gtS64,
  gtU64,
  lsh64,
  modS32,
  modS64,
  modU32,
  modU64,
  mul64,
  neg64,
  rsh64,
  sub64,
  toBigInt,
} from '../../bpf/u64.ts';
import type { Insn } from '../../bpf/isa/index.ts';
import { atomicRmw } from './atomic.ts';
import type { HelperEnv, HelperFn, HelperRegistry } from './env.ts';
import { VmError } from './errors.ts';
import { CODE_HI, CODE_LO_BASE, insnTextAt, type LoadedProgram, type LoadOptions, loadProgram } from './load.ts';
import { MAX_FRAMES, Memory, REGION_HI_BASE, type RegionKind, STACK_SIZE } from './memory.ts';
import { Tracer, type TraceStep } from './trace.ts';

export const DEFAULT_MAX_INSNS = 1_000_000;

export interface VmOptions extends LoadOptions {
  /** Executed-instruction budget per run (default 1,000,000). */
  readonly maxInsns?: number | undefined;
  /** Memory shared with the host (map values live there); a fresh one by default. */
  readonly memory?: Memory | undefined;
}

export interface RunInput {
  /** Input bytes, aliased (not copied) as a region: R1 = its address, R2 = its length. Also the packet of ldabs/ldind. */
  readonly mem?: Uint8Array | undefined;
  /** Region kind of `mem` (default 'input'; 'ctx' for a program context). */
  readonly memKind?: RegionKind | undefined;
  /** R1, R2, ... explicitly (override what `mem` sets). */
  readonly args?: readonly bigint[] | undefined;
  readonly maxInsns?: number | undefined;
  /** Called once per executed instruction with the registers it changed. */
  readonly trace?: ((step: TraceStep) => void) | undefined;
}

export interface RunResult {
  readonly r0: bigint;
  /** Instructions executed. */
  readonly insns: number;
}

/** Saved state per call frame: return slot, R6..R9 (lo, hi). */
const FRAME_WORDS = 9;

/** Region index of [lo, lo + size) at high half hi, or -1 (sizes holds 0 for unusable regions). */
const regionOf = (sizes: Int32Array, nreg: number, lo: number, hi: number, size: number): number => {
  const ri = (hi - REGION_HI_BASE) >>> 0;
  return ri < nreg && lo + size <= (sizes[ri] as number) ? ri : -1;
};

export class Vm implements HelperEnv {
  readonly program: LoadedProgram;
  readonly memory: Memory;
  /** R0..R10 as (lo, hi) int32 pairs, then the program's constant registers. */
  readonly regs: Int32Array;
  readonly maxInsns: number;
  /** Slot of the instruction being executed (valid inside helpers and in errors). */
  pc = 0;
  readonly #helpers: HelperRegistry | undefined;
  readonly #frames = new Int32Array(MAX_FRAMES * FRAME_WORDS);
  #halted = false;
  /** Where a paused #exec resumes (tracing). */
  #pc = 0;
  #depth = 0;
  /** Offset result of #resolve. */
  #lo = 0;
  /** The budget of the current run (for its error message). */
  #limit = 0;
  /** The run's unused budget, valid while a helper runs (callFunction spends from it). */
  #left = 0;
  /** Depth whose EXIT ends #exec: 0 for the program, the callee's for callFunction. */
  #base = 0;
  /** Region of the run's input (ldabs/ldind), -1 without one. */
  #packet = -1;

  constructor(insns: readonly Insn[], opts: VmOptions = {}) {
    this.program = loadProgram(insns, opts);
    this.memory = opts.memory ?? new Memory();
    this.regs = this.program.constants.slice();
    this.maxInsns = opts.maxInsns ?? DEFAULT_MAX_INSNS;
    this.#helpers = opts.helpers;
  }

  // ---- HelperEnv ----
  arg(i: number): bigint {
    return toBigInt(this.regs[2 * i] as number, this.regs[2 * i + 1] as number);
  }
  setReturn(value: bigint): void {
    fromBigInt(this.regs, 0, value);
  }
  halt(): void {
    this.#halted = true;
  }
  callFunction(target: bigint, args: readonly bigint[]): bigint {
    const R = this.regs;
    const lo = Number(BigInt.asIntN(32, target));
    const hi = Number(BigInt.asIntN(32, target >> 32n));
    const slot = this.#codeSlot(lo, hi);
    if (slot < 0) throw this.#fail('BAD_CALL_TARGET', this.pc, `callback 0x${target.toString(16)} is no function`);
    const saved = R.slice(0, 22);
    const { pc, depth, base } = { pc: this.pc, depth: this.#depth, base: this.#base };
    this.#depth = this.#enter(pc, depth);
    args.forEach((v, i) => {
      fromBigInt(R, 2 * (i + 1), v);
    });
    this.#base = this.#depth;
    this.#pc = slot;
    try {
      this.#left = this.#exec(this.#left, this.#packet, false);
    } finally {
      this.#base = base;
      this.#depth = depth;
      this.pc = pc;
    }
    const r0 = toBigInt(R[0] as number, R[1] as number);
    R.set(saved);
    return r0;
  }

  /** Runs the program once. Throws VmError (only) when it does not reach EXIT. */
  run(input: RunInput = {}): RunResult {
    const mem = this.memory;
    const mark = mem.mark();
    const R = this.regs;
    R.fill(0, 0, 22);
    mem.stack.fill(0);
    let packet = -1;
    try {
      if (input.mem !== undefined) {
        const region = mem.add(input.memKind ?? 'input', input.mem, input.memKind ?? 'input');
        packet = region.index;
        fromBigInt(R, 2, region.address);
        R[4] = input.mem.byteLength;
      }
      input.args?.forEach((v, i) => {
        fromBigInt(R, 2 * (i + 1), v);
      });
      R[20] = STACK_SIZE;
      R[21] = REGION_HI_BASE;
      const budget = input.maxInsns ?? this.maxInsns;
      this.#limit = budget;
      this.#pc = 0;
      this.#depth = 0;
      this.#base = 0;
      this.#packet = packet;
      const left = input.trace ? this.#traced(budget, packet, input.trace) : this.#exec(budget, packet, false);
      return { r0: toBigInt(R[0] as number, R[1] as number), insns: budget - left };
    } finally {
      mem.release(mark);
    }
  }

  /**
   * Tracing: the dispatch loop runs one instruction at a time (budget 1, pausing instead of failing
   * when it runs out), so the untraced loop carries no tracing check at all.
   */
  #traced(budget: number, packet: number, emit: (step: TraceStep) => void): number {
    const tracer = new Tracer(this.program, this.regs, emit);
    try {
      // #left is the run's budget here, so callbacks run from a traced step (untraced) spend from it too.
      for (this.#left = budget; ; ) {
        if (this.#left <= 0) throw this.#overBudget(this.#pc);
        tracer.step(this.#pc);
        this.#left--;
        if (this.#exec(1, packet, true) >= 0) return this.#left;
      }
    } finally {
      // The last instruction is reported also when it failed.
      tracer.finish();
    }
  }

  /**
   * The dispatch loop, from this.#pc / this.#depth; returns the unused budget when the program ends.
   * When the budget runs out it throws, or with `pausing` saves pc and depth and returns -1.
   */
  #exec(budget: number, packet: number, pausing: boolean): number {
    const R = this.regs;
    const { code, fns, slots } = this.program;
    const mem = this.memory;
    const { sizes, wsizes, views } = mem;
    const frames = this.#frames;
    let nreg = mem.count;
    let depth = this.#depth;
    let pc = this.#pc;
    const base = this.#base;
    // Case labels are the micro-op numbers of uops.ts written as literals (name in the comment):
    // V8 does not constant-fold `case U.X` for an imported object, and the compare chain that results
    // cost 1.6x (measured). test/runtime/vm/dispatch.test.ts checks every label against U.
    for (;;) {
      if (--budget < 0) {
        if (!pausing) throw this.#overBudget(pc);
        this.#pc = pc;
        this.#depth = depth;
        return -1;
      }
      const at = pc << 2;
      const d = code[at + 1] as number;
      const s = code[at + 2] as number;
      switch (code[at]) {
        // ---- ALU: 32-bit forms operate on low halves and zero the high half ----
        case 0 /* ADD32 */:
          R[d] = ((R[d] as number) + (R[s] as number)) | 0;
          R[d + 1] = 0;
          pc++;
          continue;
        case 1 /* ADD64 */:
          add64(R, d, R[s] as number, R[s + 1] as number);
          pc++;
          continue;
        case 2 /* SUB32 */:
          R[d] = ((R[d] as number) - (R[s] as number)) | 0;
          R[d + 1] = 0;
          pc++;
          continue;
        case 3 /* SUB64 */:
          sub64(R, d, R[s] as number, R[s + 1] as number);
          pc++;
          continue;
        case 4 /* MUL32 */:
          R[d] = Math.imul(R[d] as number, R[s] as number);
          R[d + 1] = 0;
          pc++;
          continue;
        case 5 /* MUL64 */:
          mul64(R, d, R[s] as number, R[s + 1] as number);
          pc++;
          continue;
        case 6 /* DIV32 */:
          R[d] = divU32(R[d] as number, R[s] as number);
          R[d + 1] = 0;
          pc++;
          continue;
        case 7 /* DIV64 */:
          divU64(R, d, R[s] as number, R[s + 1] as number);
          pc++;
          continue;
        case 8 /* SDIV32 */:
          R[d] = divS32(R[d] as number, R[s] as number);
          R[d + 1] = 0;
          pc++;
          continue;
        case 9 /* SDIV64 */:
          divS64(R, d, R[s] as number, R[s + 1] as number);
          pc++;
          continue;
        case 18 /* MOD32 */:
          R[d] = modU32(R[d] as number, R[s] as number);
          R[d + 1] = 0;
          pc++;
          continue;
        case 19 /* MOD64 */:
          modU64(R, d, R[s] as number, R[s + 1] as number);
          pc++;
          continue;
        case 20 /* SMOD32 */:
          R[d] = modS32(R[d] as number, R[s] as number);
          R[d + 1] = 0;
          pc++;
          continue;
        case 21 /* SMOD64 */:
          modS64(R, d, R[s] as number, R[s + 1] as number);
          pc++;
          continue;
        case 10 /* OR32 */:
          R[d] = (R[d] as number) | (R[s] as number);
          R[d + 1] = 0;
          pc++;
          continue;
        case 11 /* OR64 */:
          R[d] = (R[d] as number) | (R[s] as number);
          R[d + 1] = (R[d + 1] as number) | (R[s + 1] as number);
          pc++;
          continue;
        case 12 /* AND32 */:
          R[d] = (R[d] as number) & (R[s] as number);
          R[d + 1] = 0;
          pc++;
          continue;
        case 13 /* AND64 */:
          R[d] = (R[d] as number) & (R[s] as number);
          R[d + 1] = (R[d + 1] as number) & (R[s + 1] as number);
          pc++;
          continue;
        case 22 /* XOR32 */:
          R[d] = (R[d] as number) ^ (R[s] as number);
          R[d + 1] = 0;
          pc++;
          continue;
        case 23 /* XOR64 */:
          R[d] = (R[d] as number) ^ (R[s] as number);
          R[d + 1] = (R[d + 1] as number) ^ (R[s + 1] as number);
          pc++;
          continue;
        case 14 /* LSH32 */:
          R[d] = (R[d] as number) << ((R[s] as number) & 31);
          R[d + 1] = 0;
          pc++;
          continue;
        case 15 /* LSH64 */:
          lsh64(R, d, R[s] as number);
          pc++;
          continue;
        case 16 /* RSH32 */:
          R[d] = (R[d] as number) >>> ((R[s] as number) & 31);
          R[d + 1] = 0;
          pc++;
          continue;
        case 17 /* RSH64 */:
          rsh64(R, d, R[s] as number);
          pc++;
          continue;
        case 26 /* ARSH32 */:
          R[d] = (R[d] as number) >> ((R[s] as number) & 31);
          R[d + 1] = 0;
          pc++;
          continue;
        case 27 /* ARSH64 */:
          arsh64(R, d, R[s] as number);
          pc++;
          continue;
        case 24 /* MOV32 */:
          R[d] = R[s] as number;
          R[d + 1] = 0;
          pc++;
          continue;
        case 25 /* MOV64 */:
          R[d] = R[s] as number;
          R[d + 1] = R[s + 1] as number;
          pc++;
          continue;
        case 28 /* NEG32 */:
          R[d] = -(R[d] as number) | 0;
          R[d + 1] = 0;
          pc++;
          continue;
        case 29 /* NEG64 */:
          neg64(R, d);
          pc++;
          continue;
        case 30 /* MOVSX8_32 */:
          R[d] = ((R[s] as number) << 24) >> 24;
          R[d + 1] = 0;
          pc++;
          continue;
        case 31 /* MOVSX16_32 */:
          R[d] = ((R[s] as number) << 16) >> 16;
          R[d + 1] = 0;
          pc++;
          continue;
        case 32 /* MOVSX8_64 */:
          R[d] = ((R[s] as number) << 24) >> 24;
          R[d + 1] = (R[d] as number) >> 31;
          pc++;
          continue;
        case 33 /* MOVSX16_64 */:
          R[d] = ((R[s] as number) << 16) >> 16;
          R[d + 1] = (R[d] as number) >> 31;
          pc++;
          continue;
        case 34 /* MOVSX32_64 */:
          R[d] = R[s] as number;
          R[d + 1] = (R[s] as number) >> 31;
          pc++;
          continue;
        case 35 /* LE16 */:
          R[d] = (R[d] as number) & 0xffff;
          R[d + 1] = 0;
          pc++;
          continue;
        case 36 /* LE32 */:
          R[d + 1] = 0;
          pc++;
          continue;
        case 37 /* LE64 */:
          pc++;
          continue;
        case 38 /* BSWAP16 */:
          R[d] = bswap16(R[d] as number);
          R[d + 1] = 0;
          pc++;
          continue;
        case 39 /* BSWAP32 */:
          R[d] = bswap32(R[d] as number);
          R[d + 1] = 0;
          pc++;
          continue;
        case 40 /* BSWAP64 */:
          bswap64(R, d);
          pc++;
          continue;
        case 41 /* LDDW */:
          R[d] = R[s] as number;
          R[d + 1] = R[s + 1] as number;
          pc += 2;
          continue;

        // ---- memory: address = base register + off; (hi - REGION_HI_BASE) selects the region ----
        case 44 /* LDXB */:
          {
            // Fast path: base offset and result below 2^31, no carry into the high half.
            const b = R[s] as number;
            let lo = (b + (code[at + 3] as number)) | 0;
            let ri = ((R[s + 1] as number) - REGION_HI_BASE) >>> 0;
            if ((b | lo) < 0 || ri >= nreg || lo + 1 > (sizes[ri] as number)) {
              ri = this.#resolve(pc, s, 1, false);
              lo = this.#lo;
            }
            const v = views[ri] as DataView;
            R[d] = v.getUint8(lo);
            R[d + 1] = 0;
            pc++;
            continue;
          }
        case 45 /* LDXH */:
          {
            // Fast path: base offset and result below 2^31, no carry into the high half.
            const b = R[s] as number;
            let lo = (b + (code[at + 3] as number)) | 0;
            let ri = ((R[s + 1] as number) - REGION_HI_BASE) >>> 0;
            if ((b | lo) < 0 || ri >= nreg || lo + 2 > (sizes[ri] as number)) {
              ri = this.#resolve(pc, s, 2, false);
              lo = this.#lo;
            }
            const v = views[ri] as DataView;
            R[d] = v.getUint16(lo, true);
            R[d + 1] = 0;
            pc++;
            continue;
          }
        case 46 /* LDXW */:
          {
            // Fast path: base offset and result below 2^31, no carry into the high half.
            const b = R[s] as number;
            let lo = (b + (code[at + 3] as number)) | 0;
            let ri = ((R[s + 1] as number) - REGION_HI_BASE) >>> 0;
            if ((b | lo) < 0 || ri >= nreg || lo + 4 > (sizes[ri] as number)) {
              ri = this.#resolve(pc, s, 4, false);
              lo = this.#lo;
            }
            const v = views[ri] as DataView;
            R[d] = v.getInt32(lo, true);
            R[d + 1] = 0;
            pc++;
            continue;
          }
        case 47 /* LDXDW */:
          {
            // Fast path: base offset and result below 2^31, no carry into the high half.
            const b = R[s] as number;
            let lo = (b + (code[at + 3] as number)) | 0;
            let ri = ((R[s + 1] as number) - REGION_HI_BASE) >>> 0;
            if ((b | lo) < 0 || ri >= nreg || lo + 8 > (sizes[ri] as number)) {
              ri = this.#resolve(pc, s, 8, false);
              lo = this.#lo;
            }
            const v = views[ri] as DataView;
            R[d] = v.getInt32(lo, true);
            R[d + 1] = v.getInt32(lo + 4, true);
            pc++;
            continue;
          }
        case 48 /* LDXSB */:
          {
            // Fast path: base offset and result below 2^31, no carry into the high half.
            const b = R[s] as number;
            let lo = (b + (code[at + 3] as number)) | 0;
            let ri = ((R[s + 1] as number) - REGION_HI_BASE) >>> 0;
            if ((b | lo) < 0 || ri >= nreg || lo + 1 > (sizes[ri] as number)) {
              ri = this.#resolve(pc, s, 1, false);
              lo = this.#lo;
            }
            const v = views[ri] as DataView;
            R[d] = v.getInt8(lo);
            R[d + 1] = (R[d] as number) >> 31;
            pc++;
            continue;
          }
        case 49 /* LDXSH */:
          {
            // Fast path: base offset and result below 2^31, no carry into the high half.
            const b = R[s] as number;
            let lo = (b + (code[at + 3] as number)) | 0;
            let ri = ((R[s + 1] as number) - REGION_HI_BASE) >>> 0;
            if ((b | lo) < 0 || ri >= nreg || lo + 2 > (sizes[ri] as number)) {
              ri = this.#resolve(pc, s, 2, false);
              lo = this.#lo;
            }
            const v = views[ri] as DataView;
            R[d] = v.getInt16(lo, true);
            R[d + 1] = (R[d] as number) >> 31;
            pc++;
            continue;
          }
        case 50 /* LDXSW */:
          {
            // Fast path: base offset and result below 2^31, no carry into the high half.
            const b = R[s] as number;
            let lo = (b + (code[at + 3] as number)) | 0;
            let ri = ((R[s + 1] as number) - REGION_HI_BASE) >>> 0;
            if ((b | lo) < 0 || ri >= nreg || lo + 4 > (sizes[ri] as number)) {
              ri = this.#resolve(pc, s, 4, false);
              lo = this.#lo;
            }
            const v = views[ri] as DataView;
            R[d] = v.getInt32(lo, true);
            R[d + 1] = (R[d] as number) >> 31;
            pc++;
            continue;
          }
        case 51 /* STB */:
          {
            // Fast path: base offset and result below 2^31, no carry into the high half.
            const b = R[d] as number;
            let lo = (b + (code[at + 3] as number)) | 0;
            let ri = ((R[d + 1] as number) - REGION_HI_BASE) >>> 0;
            if ((b | lo) < 0 || ri >= nreg || lo + 1 > (wsizes[ri] as number)) {
              ri = this.#resolve(pc, d, 1, true);
              lo = this.#lo;
            }
            const v = views[ri] as DataView;
            v.setUint8(lo, R[s] as number);
            pc++;
            continue;
          }
        case 52 /* STH */:
          {
            // Fast path: base offset and result below 2^31, no carry into the high half.
            const b = R[d] as number;
            let lo = (b + (code[at + 3] as number)) | 0;
            let ri = ((R[d + 1] as number) - REGION_HI_BASE) >>> 0;
            if ((b | lo) < 0 || ri >= nreg || lo + 2 > (wsizes[ri] as number)) {
              ri = this.#resolve(pc, d, 2, true);
              lo = this.#lo;
            }
            const v = views[ri] as DataView;
            v.setUint16(lo, R[s] as number, true);
            pc++;
            continue;
          }
        case 53 /* STW */:
          {
            // Fast path: base offset and result below 2^31, no carry into the high half.
            const b = R[d] as number;
            let lo = (b + (code[at + 3] as number)) | 0;
            let ri = ((R[d + 1] as number) - REGION_HI_BASE) >>> 0;
            if ((b | lo) < 0 || ri >= nreg || lo + 4 > (wsizes[ri] as number)) {
              ri = this.#resolve(pc, d, 4, true);
              lo = this.#lo;
            }
            const v = views[ri] as DataView;
            v.setInt32(lo, R[s] as number, true);
            pc++;
            continue;
          }
        case 54 /* STDW */:
          {
            // Fast path: base offset and result below 2^31, no carry into the high half.
            const b = R[d] as number;
            let lo = (b + (code[at + 3] as number)) | 0;
            let ri = ((R[d + 1] as number) - REGION_HI_BASE) >>> 0;
            if ((b | lo) < 0 || ri >= nreg || lo + 8 > (wsizes[ri] as number)) {
              ri = this.#resolve(pc, d, 8, true);
              lo = this.#lo;
            }
            const v = views[ri] as DataView;
            v.setInt32(lo, R[s] as number, true);
            v.setInt32(lo + 4, R[s + 1] as number, true);
            pc++;
            continue;
          }
        case 55 /* ATOMIC32 */:
          this.#atomic(pc, d, s, 4, nreg);
          pc++;
          continue;
        case 56 /* ATOMIC64 */:
          this.#atomic(pc, d, s, 8, nreg);
          pc++;
          continue;
        case 42 /* LDABS */:
        case 43 /* LDIND */:
          {
            // Legacy packet loads: big-endian from the packet (the run's input); out of bounds ends the
            // program with R0 = 0, as the kernel's LD_ABS/LD_IND do.
            const size = d;
            const o = ((R[s] as number) + (code[at + 3] as number)) | 0;
            if (packet < 0 || o < 0 || o + size > (sizes[packet] as number)) {
              R[0] = 0;
              R[1] = 0;
              return budget;
            }
            const v = views[packet] as DataView;
            R[0] = size === 1 ? v.getUint8(o) : size === 2 ? v.getUint16(o, false) : v.getInt32(o, false);
            R[1] = 0;
            pc++;
            continue;
          }

        // ---- jumps: 64-bit compares on pairs, 32-bit on low halves ----
        case 57 /* JA */:
          pc = code[at + 3] as number;
          continue;
        case 58 /* JEQ64 */:
          pc = R[d] === R[s] && R[d + 1] === R[s + 1] ? (code[at + 3] as number) : pc + 1;
          continue;
        case 59 /* JEQ32 */:
          pc = R[d] === R[s] ? (code[at + 3] as number) : pc + 1;
          continue;
        case 66 /* JNE64 */:
          pc = R[d] !== R[s] || R[d + 1] !== R[s + 1] ? (code[at + 3] as number) : pc + 1;
          continue;
        case 67 /* JNE32 */:
          pc = R[d] !== R[s] ? (code[at + 3] as number) : pc + 1;
          continue;
        case 64 /* JSET64 */:
          pc =
            ((R[d] as number) & (R[s] as number)) !== 0 || ((R[d + 1] as number) & (R[s + 1] as number)) !== 0
              ? (code[at + 3] as number)
              : pc + 1;
          continue;
        case 65 /* JSET32 */:
          pc = ((R[d] as number) & (R[s] as number)) !== 0 ? (code[at + 3] as number) : pc + 1;
          continue;
        case 60 /* JGT64 */:
          pc = gtU64(R[d] as number, R[d + 1] as number, R[s] as number, R[s + 1] as number)
            ? (code[at + 3] as number)
            : pc + 1;
          continue;
        case 61 /* JGT32 */:
          pc = (R[d] as number) >>> 0 > (R[s] as number) >>> 0 ? (code[at + 3] as number) : pc + 1;
          continue;
        case 62 /* JGE64 */:
          pc = geU64(R[d] as number, R[d + 1] as number, R[s] as number, R[s + 1] as number)
            ? (code[at + 3] as number)
            : pc + 1;
          continue;
        case 63 /* JGE32 */:
          pc = (R[d] as number) >>> 0 >= (R[s] as number) >>> 0 ? (code[at + 3] as number) : pc + 1;
          continue;
        case 72 /* JLT64 */:
          pc = gtU64(R[s] as number, R[s + 1] as number, R[d] as number, R[d + 1] as number)
            ? (code[at + 3] as number)
            : pc + 1;
          continue;
        case 73 /* JLT32 */:
          pc = (R[d] as number) >>> 0 < (R[s] as number) >>> 0 ? (code[at + 3] as number) : pc + 1;
          continue;
        case 74 /* JLE64 */:
          pc = geU64(R[s] as number, R[s + 1] as number, R[d] as number, R[d + 1] as number)
            ? (code[at + 3] as number)
            : pc + 1;
          continue;
        case 75 /* JLE32 */:
          pc = (R[d] as number) >>> 0 <= (R[s] as number) >>> 0 ? (code[at + 3] as number) : pc + 1;
          continue;
        case 68 /* JSGT64 */:
          pc = gtS64(R[d] as number, R[d + 1] as number, R[s] as number, R[s + 1] as number)
            ? (code[at + 3] as number)
            : pc + 1;
          continue;
        case 69 /* JSGT32 */:
          pc = (R[d] as number) > (R[s] as number) ? (code[at + 3] as number) : pc + 1;
          continue;
        case 70 /* JSGE64 */:
          pc = geS64(R[d] as number, R[d + 1] as number, R[s] as number, R[s + 1] as number)
            ? (code[at + 3] as number)
            : pc + 1;
          continue;
        case 71 /* JSGE32 */:
          pc = (R[d] as number) >= (R[s] as number) ? (code[at + 3] as number) : pc + 1;
          continue;
        case 76 /* JSLT64 */:
          pc = gtS64(R[s] as number, R[s + 1] as number, R[d] as number, R[d + 1] as number)
            ? (code[at + 3] as number)
            : pc + 1;
          continue;
        case 77 /* JSLT32 */:
          pc = (R[d] as number) < (R[s] as number) ? (code[at + 3] as number) : pc + 1;
          continue;
        case 78 /* JSLE64 */:
          pc = geS64(R[s] as number, R[s + 1] as number, R[d] as number, R[d + 1] as number)
            ? (code[at + 3] as number)
            : pc + 1;
          continue;
        case 79 /* JSLE32 */:
          pc = (R[d] as number) <= (R[s] as number) ? (code[at + 3] as number) : pc + 1;
          continue;

        // ---- calls ----
        case 80 /* CALL_HELPER */:
        case 82 /* CALL_KFUNC */:
          {
            const f = code[at + 3] as number;
            if (f < 0) throw this.#unknownCall(pc);
            this.#depth = depth;
            if (!pausing) this.#left = budget;
            this.#invoke(pc, fns[f] as HelperFn);
            if (!pausing) budget = this.#left;
            nreg = mem.count;
            if (this.#halted) return budget;
            pc++;
            continue;
          }
        case 83 /* CALLX */:
          {
            const lo = R[d] as number;
            const hi = R[d + 1] as number;
            const slot = this.#codeSlot(lo, hi);
            if (slot >= 0) {
              depth = this.#enter(pc, depth);
              pc = slot;
              continue;
            }
            const fn = hi === 0 ? this.#helpers?.helper(lo) : undefined;
            if (fn === undefined) {
              throw this.#fail('BAD_CALL_TARGET', pc, `callx target 0x${toBigInt(lo, hi).toString(16)} is no function`);
            }
            this.#depth = depth;
            if (!pausing) this.#left = budget;
            this.#invoke(pc, fn);
            if (!pausing) budget = this.#left;
            nreg = mem.count;
            if (this.#halted) return budget;
            pc++;
            continue;
          }
        case 81 /* CALL_LOCAL */:
          depth = this.#enter(pc, depth);
          pc = code[at + 3] as number;
          continue;
        case 84 /* EXIT */:
          {
            if (depth === base) return budget;
            depth--;
            const f = depth * FRAME_WORDS;
            pc = (frames[f] as number) + 1;
            for (let i = 0; i < 8; i++) R[12 + i] = frames[f + 1 + i] as number;
            R[20] = STACK_SIZE;
            R[21] = REGION_HI_BASE + depth;
            continue;
          }
        default:
          throw pc === slots
            ? this.#fail('FELL_OFF_END', pc, 'execution ran past the last instruction')
            : this.#fail('BAD_PROGRAM', pc, 'jump into the middle of an instruction');
      }
    }
  }

  /** The instruction slot a code address (lddw src 4) points at, or -1. */
  #codeSlot(lo: number, hi: number): number {
    const slot = (lo - CODE_LO_BASE) / 8;
    return hi === CODE_HI &&
      slot >= 0 &&
      slot < this.program.slots &&
      Number.isInteger(slot) &&
      this.program.insnAt[slot]! >= 0
      ? slot
      : -1;
  }

  /** Enters a bpf-to-bpf call: saves the return slot and R6..R9, gives the callee its own stack frame. */
  #enter(pc: number, depth: number): number {
    if (depth + 1 >= MAX_FRAMES) throw this.#fail('CALL_DEPTH', pc, `call depth exceeds ${MAX_FRAMES} frames`);
    const R = this.regs;
    const f = depth * FRAME_WORDS;
    this.#frames[f] = pc;
    for (let i = 0; i < 8; i++) this.#frames[f + 1 + i] = R[12 + i] as number;
    R[20] = STACK_SIZE;
    R[21] = REGION_HI_BASE + depth + 1;
    return depth + 1;
  }

  #invoke(pc: number, fn: HelperFn): void {
    this.pc = pc;
    this.#halted = false;
    try {
      fn(this);
    } catch (e) {
      if (e instanceof VmError) {
        if (e.pc !== undefined) throw e;
        const at = { pc, insn: insnTextAt(this.program, pc), cause: e.cause };
        throw new VmError(e.code, e.detail, { ...at, address: e.address, size: e.size, region: e.region });
      }
      throw this.#fail('HELPER_FAULT', pc, `helper failed: ${e instanceof Error ? e.message : String(e)}`, e);
    }
  }

  #atomic(pc: number, d: number, s: number, size: 4 | 8, nreg: number): void {
    const R = this.regs;
    const a = ((R[d] as number) >>> 0) + (this.program.code[4 * pc + 3] as number);
    const lo = a >>> 0;
    const hi = (R[d + 1] as number) + (a < 0 ? -1 : a > 0xffffffff ? 1 : 0);
    const ri = regionOf(this.memory.wsizes, nreg, lo, hi, size);
    if (ri < 0) throw this.#memFault(pc, lo, hi, size, true);
    const v = this.memory.views[ri] as DataView;
    atomicRmw(R, s, v, lo, this.program.atomicOp[pc] as number, size);
  }

  /**
   * Exact address of a load/store whose fast path did not apply: full 64-bit base + off with carry.
   * Returns the region index and leaves the offset in #lo; throws BAD_ACCESS/READ_ONLY.
   */
  #resolve(pc: number, base: number, size: number, write: boolean): number {
    const R = this.regs;
    const a = ((R[base] as number) >>> 0) + (this.program.code[4 * pc + 3] as number);
    const lo = a >>> 0;
    const hi = (R[base + 1] as number) + (a < 0 ? -1 : a > 0xffffffff ? 1 : 0);
    const ri = regionOf(write ? this.memory.wsizes : this.memory.sizes, this.memory.count, lo, hi, size);
    if (ri < 0) throw this.#memFault(pc, lo, hi, size, write);
    this.#lo = lo;
    return ri;
  }

  #overBudget(pc: number): VmError {
    return this.#fail('BUDGET_EXCEEDED', pc, `instruction budget of ${this.#limit} exceeded`);
  }

  #fail(code: VmError['code'], pc: number, detail: string, cause?: unknown): VmError {
    return new VmError(code, detail, { pc, insn: insnTextAt(this.program, pc), cause });
  }

  #memFault(pc: number, lo: number, hi: number, size: number, write: boolean): VmError {
    return this.memory.fault(lo, hi, size, write, { pc, insn: insnTextAt(this.program, pc) });
  }

  #unknownCall(pc: number): VmError {
    const i = this.program.insnAt[pc] as number;
    const insn = this.program.insns[i] as Insn;
    return insn.spec.op === 'kfunc'
      ? this.#fail('UNKNOWN_KFUNC', pc, `unknown kfunc btf_id ${insn.imm}${insn.off ? ` in module ${insn.off}` : ''}`)
      : this.#fail('UNKNOWN_HELPER', pc, `unknown helper ${insn.imm}`);
  }
}
