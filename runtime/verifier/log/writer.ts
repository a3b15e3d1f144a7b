/**
 * The verifier log as the kernel keeps it: an append-only text whose end can be moved back (a path
 * that finished at log level 1 is erased; the newline after an instruction is replaced by the state
 * printed on the same line). Positions are character offsets, like the kernel's end_pos.
 */
export const LogLevel = { VERBOSE: 1, STATE: 2, STATS: 4 } as const;

/** Column padding before ";" on an instruction line (vlog_alignment). */
const alignment = (pos: number): number => {
  const want = Math.max(pos + 4, 40);
  return Math.ceil(want / 8) * 8 - pos - 1;
};

export class VerifierLog {
  readonly level: number;
  /**
   * The text as pieces: resets only move the end back by a line or a path's tail, so popping pieces
   * keeps them cheap; one string with slice() flattened the whole log each time (quadratic: minutes
   * for a 600k-instruction program at level 1).
   */
  private readonly parts: string[] = [];
  private length = 0;
  /** End of the log right after the last instruction line (0 = none yet). */
  prevLogPos = 0;
  /** Length of the last instruction line, newline included. */
  prevInsnPrintPos = 0;

  constructor(level: number) {
    this.level = level;
  }

  get enabled(): boolean {
    return this.level !== 0;
  }
  get verbose(): boolean {
    return (this.level & (LogLevel.VERBOSE | LogLevel.STATE)) !== 0;
  }
  get states(): boolean {
    return (this.level & LogLevel.STATE) !== 0;
  }
  get endPos(): number {
    return this.length;
  }

  write(s: string): void {
    if (!this.enabled || s === '') return;
    this.parts.push(s);
    this.length += s.length;
  }

  reset(pos: number): void {
    while (this.length > pos) {
      const last = this.parts.pop() as string;
      this.length -= last.length;
      if (this.length < pos) {
        this.parts.push(last.slice(0, pos - this.length));
        this.length = pos;
      }
    }
  }

  /** print_insn_state's prefix: continue the instruction line with "    ;" or start "N:". */
  beginInsnState(insnIdx: number): void {
    if (this.prevLogPos && this.prevLogPos === this.endPos) {
      this.reset(this.prevLogPos - 1);
      this.write(`${' '.repeat(alignment(this.prevInsnPrintPos) - 1)} ;`);
    } else {
      this.write(`${insnIdx}:`);
    }
  }

  /** "N: (op) text\n" for the instruction about to be processed. */
  insnLine(insnIdx: number, text: string): void {
    this.prevLogPos = this.endPos;
    this.write(`${insnIdx}: ${text}\n`);
    this.prevInsnPrintPos = this.endPos - this.prevLogPos;
    this.prevLogPos = this.endPos;
  }

  toString(): string {
    if (this.parts.length > 1) this.parts.splice(0, this.parts.length, this.parts.join(''));
    return this.parts[0] ?? '';
  }
}
