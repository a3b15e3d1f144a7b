/**
 * Stack-slot liveness (6.18's kernel/bpf/liveness.c, without its per-call-chain instances): which of
 * a frame's 64 stack slots may be read, before being written, on some path from an instruction.
 * Reads and writes are recorded as the verifier meets them: a read of slot s of frame F counts at the
 * instruction of F's subprogram on the current call chain (the instruction itself, or the call through
 * which a callee or callback reads F's stack by pointer); a write counts only when the instruction
 * wrote the whole slot of its own frame at a fixed offset on every visit (a must-write). A backward
 * data-flow over each subprogram's graph then gives the live slots before each instruction. Pruning
 * compares only the live slots of a fully explored state: the reads of every path below it were
 * recorded before its last path ended, and liveness is brought up to date whenever a path ends.
 */
import type { FlowGraph } from './liveness.ts';

const SLOTS_PER_WORD = 32;

export class StackLiveness {
  /** Slots read at each instruction: two words (slots 0-31, 32-63) per instruction. */
  private readonly reads: Uint32Array;
  /** Slots written at each instruction on every visit so far. */
  private readonly writes: Uint32Array;
  /** The instruction was visited (its must-write set is meaningful). */
  private readonly seen: Uint8Array;
  /** Slots live before each instruction, as of the last update(). */
  private readonly live: Uint32Array;
  /** Instructions whose marks changed since the last update(). */
  private readonly changed: Int32Array;
  private readonly queued: Uint8Array;
  private nChanged = 0;
  /** The instruction whose writes are being gathered, and those writes. */
  private insn = -1;
  private lo = 0;
  private hi = 0;

  private readonly graph: FlowGraph;

  constructor(graph: FlowGraph) {
    this.graph = graph;
    const n = graph.succFirst.length - 1;
    this.reads = new Uint32Array(2 * n);
    this.writes = new Uint32Array(2 * n);
    this.seen = new Uint8Array(n);
    this.live = new Uint32Array(2 * n);
    this.changed = new Int32Array(n);
    this.queued = new Uint8Array(n);
  }

  private touch(i: number): void {
    if (this.queued[i]) return;
    this.queued[i] = 1;
    this.changed[this.nChanged++] = i;
  }

  /** Slot `spi` is read at instruction `i`. */
  read(i: number, spi: number): void {
    const w = 2 * i + (spi >= SLOTS_PER_WORD ? 1 : 0);
    const bit = 1 << (spi % SLOTS_PER_WORD);
    const had = this.reads[w] as number;
    if (had & bit) return;
    this.reads[w] = had | bit;
    this.touch(i);
  }

  /** Starts gathering the writes of instruction `i` (bpf_reset_stack_write_marks). */
  begin(i: number): void {
    this.insn = i;
    this.lo = 0;
    this.hi = 0;
  }

  /** Slot `spi` of the instruction's own frame is wholly written by it. */
  write(spi: number): void {
    if (spi >= SLOTS_PER_WORD) this.hi |= 1 << (spi - SLOTS_PER_WORD);
    else this.lo |= 1 << spi;
  }

  /** Ends the instruction (bpf_commit_stack_write_marks): its must-write set keeps what every visit wrote. */
  commit(): void {
    const i = this.insn;
    if (i < 0) return;
    this.insn = -1;
    if (!this.seen[i]) {
      this.seen[i] = 1;
      this.writes[2 * i] = this.lo;
      this.writes[2 * i + 1] = this.hi;
      if (this.lo | this.hi) this.touch(i);
      return;
    }
    const lo = (this.writes[2 * i] as number) & this.lo;
    const hi = (this.writes[2 * i + 1] as number) & this.hi;
    if (lo === this.writes[2 * i] && hi === this.writes[2 * i + 1]) return;
    this.writes[2 * i] = lo;
    this.writes[2 * i + 1] = hi;
    this.touch(i);
  }

  /**
   * Brings the live sets up to date with the marks (bpf_update_live_stack). Marks only grow (reads) or
   * shrink (writes), so the old solution lies below the new one and iterating from the changed
   * instructions reaches the new least fixpoint.
   */
  update(): void {
    const g = this.graph;
    const work = this.changed;
    let top = this.nChanged;
    this.nChanged = 0;
    while (top > 0) {
      const i = work[--top] as number;
      this.queued[i] = 0;
      let lo = 0;
      let hi = 0;
      for (let k = g.succFirst[i] as number; k < (g.succFirst[i + 1] as number); k++) {
        const t = g.succ[k] as number;
        lo |= this.live[2 * t] as number;
        hi |= this.live[2 * t + 1] as number;
      }
      lo = ((this.reads[2 * i] as number) | (lo & ~(this.writes[2 * i] as number))) >>> 0;
      hi = ((this.reads[2 * i + 1] as number) | (hi & ~(this.writes[2 * i + 1] as number))) >>> 0;
      if (lo === this.live[2 * i] && hi === this.live[2 * i + 1]) continue;
      this.live[2 * i] = lo;
      this.live[2 * i + 1] = hi;
      for (let k = g.predFirst[i] as number; k < (g.predFirst[i + 1] as number); k++) {
        const p = g.pred[k] as number;
        if (this.queued[p]) continue;
        this.queued[p] = 1;
        work[top++] = p;
      }
    }
  }

  /** Is slot `spi` live before instruction `i` (as of the last update)? */
  isLive(i: number, spi: number): boolean {
    const w = this.live[2 * i + (spi >= SLOTS_PER_WORD ? 1 : 0)] as number;
    return (w & (1 << (spi % SLOTS_PER_WORD))) !== 0;
  }
}
