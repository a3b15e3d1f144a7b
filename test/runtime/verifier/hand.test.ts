/**
 * The hand-written corpus against the kernel's recorded answers (corpus/hand.expected.json, written
 * by kernel-diff.test.ts from Linux 6.18): same verdict, same first error message, and on accepts a
 * processed-instruction count within 10% (exactly, for the precision cases). Runs without root.
 */
import { describe, expect, it } from 'vitest';
import { verify } from '../../../runtime/verifier/index.ts';
import { handPrograms, ourOptions } from './corpus/index.ts';
import record from './corpus/hand.expected.json' with { type: 'json' };

interface Recorded {
  readonly accepted: boolean;
  readonly message: string;
  readonly processed: number | null;
}
const RECORD = record as Record<string, Recorded>;

/** Known differences, each with its reason (kept short; see runtime/verifier/README.md). */
const KNOWN: Record<string, string> = {};

/** Accepted programs whose processed count is known to differ by more than 10%, with the reason. */
const COUNT_KNOWN: Record<string, string> = {};

/** Precision and stack liveness decide these counts exactly (hand-precision.ts, bpf_loop's widening): no margin. */
const exactCount = (name: string): boolean =>
  name.startsWith('prec_') || name.startsWith('live_') || name === 'loop_ctx';

describe('hand-written corpus vs the recorded kernel verdicts', () => {
  for (const p of handPrograms()) {
    const k = RECORD[p.name];
    it(p.name, (ctx) => {
      if (!k) return ctx.skip('no kernel record yet (run kernel-diff.test.ts with UPDATE_VERIFIER_RECORD=1)');
      if (KNOWN[p.name]) return ctx.skip(KNOWN[p.name]);
      const r = verify(p.slots, ourOptions(p));
      expect(r.accepted).toBe(k.accepted);
      if (!k.accepted) expect(r.error?.message).toBe(k.message);
      else if (k.processed !== null && exactCount(p.name)) expect(r.stats.insnProcessed).toBe(k.processed);
      else if (k.processed !== null && !COUNT_KNOWN[p.name]) {
        expect(Math.abs(r.stats.insnProcessed - k.processed)).toBeLessThanOrEqual(Math.ceil(0.1 * k.processed));
      }
    });
  }
});
