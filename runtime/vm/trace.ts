/**
 * Per-instruction tracing: before each instruction the tracer compares the registers with a snapshot
 * taken before the previous one and reports that instruction with what it changed. Only used when a
 * trace callback is given; the untraced loop pays one predictable branch per instruction.
 */
import { toBigInt } from '../../bpf/u64.ts';
import { insnTextAt, type LoadedProgram } from './load.ts';

export interface TraceStep {
  /** Slot index of the executed instruction. */
  readonly pc: number;
  readonly insn: string;
  /** Registers the instruction changed, with their new values (unsigned). */
  readonly changes: readonly (readonly [reg: number, value: bigint])[];
}

export class Tracer {
  readonly #prog: LoadedProgram;
  readonly #regs: Int32Array;
  readonly #emit: (s: TraceStep) => void;
  readonly #before = new Int32Array(22);
  #pc = -1;

  constructor(prog: LoadedProgram, regs: Int32Array, emit: (s: TraceStep) => void) {
    this.#prog = prog;
    this.#regs = regs;
    this.#emit = emit;
  }

  /** Called before executing the instruction at `pc`. */
  step(pc: number): void {
    this.finish();
    this.#pc = pc;
    this.#before.set(this.#regs.subarray(0, 22));
  }

  /** Reports the last instruction (after EXIT, or when the run fails). */
  finish(): void {
    if (this.#pc < 0) return;
    const changes: [number, bigint][] = [];
    const r = this.#regs;
    const b = this.#before;
    for (let i = 0; i < 11; i++) {
      if (r[2 * i] !== b[2 * i] || r[2 * i + 1] !== b[2 * i + 1]) {
        changes.push([i, toBigInt(r[2 * i] as number, r[2 * i + 1] as number)]);
      }
    }
    this.#emit({ pc: this.#pc, insn: insnTextAt(this.#prog, this.#pc), changes });
    this.#pc = -1;
  }
}

/** One trace line: `pc  insn  r0=0x1 r1=0x2`. */
export const formatTraceStep = (s: TraceStep): string =>
  `${String(s.pc).padStart(5)}: ${s.insn.padEnd(32)}${s.changes.map(([r, v]) => ` r${r}=0x${v.toString(16)}`).join('')}`;
