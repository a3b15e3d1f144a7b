/**
 * Soundness: a program our verifier accepts never faults in the interpreter. fast-check generates
 * programs (corpus/generated.ts: context, stack and map-value accesses, branches on bounds, helper
 * calls, packet accesses behind checks, bounded loops) for socket filters, XDP and syscall programs;
 * every accepted one runs on random contexts, packets, map contents and helper results
 * (support/sandbox.ts). A fault of an accepted program is a verifier bug. No root needed: nothing
 * goes to the kernel.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ProgramPolicy, socketFilter, syscall, verify, xdp } from '../../../runtime/verifier/index.ts';
import { MAPS, type ProgKind } from './corpus/hand.ts';
import { programArb } from './corpus/generated.ts';
import { asmSlots } from './support/asm.ts';
import { runRandom, SANDBOX_NR_CPU_IDS } from './support/sandbox.ts';

const POLICY: Record<ProgKind, ProgramPolicy> = { socket: socketFilter, xdp, syscall };
const PER_KIND = Number(process.env.SOUNDNESS_RUNS ?? 3400);
const RUNS_PER_PROGRAM = 3;

describe('verifier soundness', () => {
  it(`accepted programs never fault in the interpreter (${3 * PER_KIND} programs)`, { timeout: 60_000 }, () => {
    let total = 0;
    let accepted = 0;
    for (const kind of ['socket', 'xdp', 'syscall'] as const) {
      fc.assert(
        fc.property(programArb(kind, true), fc.integer({ min: 0, max: 0x7fffffff }), (asm, seed) => {
          total++;
          const slots = asmSlots(asm, MAPS);
          const r = verify(slots, {
            policy: POLICY[kind],
            maps: MAPS,
            license: 'GPL',
            sleepable: kind === 'syscall',
            nrCpuIds: SANDBOX_NR_CPU_IDS,
          });
          if (!r.accepted) return;
          accepted++;
          const fault = runRandom(slots, kind, MAPS, seed, RUNS_PER_PROGRAM);
          if (fault)
            throw new Error(`accepted ${kind} program faulted on run ${fault.run}: ${fault.error.message}\n${asm}`);
        }),
        { numRuns: PER_KIND },
      );
    }
    console.log(`soundness: ${total} programs, ${accepted} accepted and run ${RUNS_PER_PROGRAM}x each`);
    expect(total).toBe(3 * PER_KIND);
    // The generator must keep producing programs worth running (the share measured is ~30%).
    expect(accepted).toBeGreaterThan(total / 5);
  });

  // The property can fail: programs the verifier refuses do fault in the sandbox.
  it.each([
    ['socket', 'map value read past its end', 'big', '  r0 = *(u64 *)(r0 + 64)'],
    ['socket', 'context read past struct __sk_buff', 'arr', '  r0 = *(u32 *)(r6 + 192)'],
    ['xdp', 'packet read without a bounds check', 'arr', '  r2 = *(u32 *)(r6 + 0)\n  r0 = *(u8 *)(r2 + 100)'],
  ] as const)('the sandbox faults on a %s program with a %s', (kind, _what, map, body) => {
    const asm = [
      '  r6 = r1',
      '  *(u32 *)(r10 - 4) = 0',
      '  r2 = r10',
      '  r2 += -4',
      `  r1 = ${map} ll`,
      '  call bpf_map_lookup_elem',
      '  if r0 == 0 goto L1',
      body,
      'L1:',
      '  r0 = 0',
      '  exit',
    ].join('\n');
    const slots = asmSlots(asm, MAPS);
    expect(
      verify(slots, { policy: POLICY[kind], maps: MAPS, license: 'GPL', nrCpuIds: SANDBOX_NR_CPU_IDS }).accepted,
    ).toBe(false);
    expect(runRandom(slots, kind, MAPS, 1, 4)?.error.code).toBe('BAD_ACCESS');
  });
});
