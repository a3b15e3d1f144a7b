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
  private text = '';
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
    return this.text.length;
  }

  write(s: string): void {
    if (this.enabled) this.text += s;
  }

  reset(pos: number): void {
    if (pos < this.text.length) this.text = this.text.slice(0, pos);
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
    return this.text;
  }
}
