/**
 * Fuzzing the interpreter with random instruction streams: whatever the program, a run ends with R0
 * or a typed error (VmError, or IsaError while decoding) within its budget — never a host exception,
 * never a hang.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, type Insn, IsaError } from '../../../bpf/isa/index.ts';
import { Vm, VmError } from '../../../runtime/vm/index.ts';
import { conformanceHelpers } from '../../../runtime/vm/plugin.ts';
import { anyInsns } from './programs.ts';

const BUDGET = 2_000;
const helpers = conformanceHelpers();

/** Runs and classifies; rethrows anything that is not a typed error. */
const outcome = (insns: readonly Insn[], mem: Uint8Array): string => {
  try {
    const vm = new Vm(insns, { helpers, maxInsns: BUDGET });
    const r = vm.run({ mem });
    expect(r.insns).toBeLessThanOrEqual(BUDGET);
    return 'r0';
  } catch (e) {
    if (e instanceof VmError) {
      expect(e.message.length).toBeGreaterThan(0);
      return e.code;
    }
    throw e;
  }
};

describe('fuzzing the interpreter', () => {
  it('random table rows with random fields end in R0 or a VmError', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(anyInsns, fc.uint8Array({ minLength: 0, maxLength: 32 }), (insns, mem) => {
        const o = outcome(insns, mem);
        seen.set(o, (seen.get(o) ?? 0) + 1);
      }),
      { numRuns: 8_000 },
    );
    // The generator reaches the interesting endings, not only load-time rejections.
    for (const code of ['r0', 'BAD_ACCESS', 'BAD_PROGRAM', 'FELL_OFF_END', 'UNKNOWN_HELPER']) {
      expect(seen.get(code) ?? 0, `${code} in ${JSON.stringify([...seen])}`).toBeGreaterThan(0);
    }
  });

  it('random bytes end in an IsaError, R0 or a VmError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 160 }), (bytes) => {
        let insns: Insn[];
        try {
          insns = decode(bytes.subarray(0, bytes.length - (bytes.length % 8)));
        } catch (e) {
          if (e instanceof IsaError) return;
          throw e;
        }
        outcome(insns, new Uint8Array(16));
      }),
      { numRuns: 4_000 },
    );
  });
});
