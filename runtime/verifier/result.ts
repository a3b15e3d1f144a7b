/** What verify() returns: the verdict, a typed error, the log, statistics and a short summary. */
import type { VerifierState } from './state/frame.ts';

export interface VerifierStats {
  readonly insnProcessed: number;
  readonly maxStatesPerInsn: number;
  readonly totalStates: number;
  readonly peakStates: number;
  /** Per subprogram, as the kernel's "stack depth" line prints them. */
  readonly stackDepth: readonly number[];
}

export interface VerifierErrorInfo {
  /** Instruction (slot) index the rejection is about. */
  readonly insnIdx: number;
  /** The kernel's message (the last line for two-line messages). */
  readonly message: string;
  /** errno the kernel would return. */
  readonly errno: string;
  /** The state at the failing instruction (absent for static checks). */
  readonly state: VerifierState | undefined;
  /** True when the program uses something this verifier does not model yet (not a kernel verdict). */
  readonly unsupported: boolean;
}

export interface VerifierResult {
  readonly accepted: boolean;
  readonly error: VerifierErrorInfo | undefined;
  readonly log: string;
  readonly stats: VerifierStats;
  /** A few useful lines for humans (cilium/ebpf style). */
  readonly summary: string;
}

/** The last useful lines of a log, with an "(N line(s) omitted)" note, the way cilium/ebpf prints it. */
export const summarizeLog = (log: string, maxLines = 3): string => {
  const lines = log
    .split('\n')
    .filter(
      (l) =>
        l.trim() !== '' &&
        !l.startsWith('processed ') &&
        !l.startsWith('verification time') &&
        !l.startsWith('stack depth'),
    );
  if (lines.length <= maxLines) return lines.join('\n');
  const omitted = lines.length - maxLines;
  return [`(${omitted} line(s) omitted)`, ...lines.slice(-maxLines)].join('\n');
};
