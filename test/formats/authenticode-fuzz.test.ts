import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyImage } from '../../formats/authenticode/index.ts';
import { PeError, readPe } from '../../formats/pe/index.ts';
import { missingTool } from '../support/env.ts';
import { missingFixture, readFixture, testKeys } from '../support/fixtures.ts';
import { certsOf, oursSign } from './authenticode-support.ts';
import { buildPe } from './pe-build.ts';
import { onlyTyped } from './pe-mutate.ts';

const RUNS = 2000;

/** Signed images with edits aimed at the certificate table (WIN_CERTIFICATE headers and the DER inside). */
const mutatedSigned = (bases: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> =>
  fc
    .record({
      base: fc.constantFrom(...bases),
      edits: fc.array(
        fc.record({
          inTable: fc.boolean(),
          at: fc.nat(),
          value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x30, 0x80, 0x82, 0x83, 0xa0, 0xff, 0)),
        }),
        { minLength: 1, maxLength: 4 },
      ),
    })
    .map(({ base, edits }) => {
      const out = base.slice();
      const table = readPe(base).certificateTable!;
      for (const e of edits) {
        // Most table edits land in the first 200 bytes: WIN_CERTIFICATE header and the outer DER structure.
        const span = e.at % 3 === 0 ? table.size : Math.min(200, table.size);
        const at = e.inTable ? table.offset + (e.at % span) : e.at % 0x400;
        out[at] = e.value;
      }
      return out;
    });

describe('Authenticode verifier on mutated signed images', () => {
  it(`verifying ${RUNS} mutated signed images in both modes raises nothing but PeError`, (ctx) => {
    const why = missingFixture('stub') ?? missingTool('openssl');
    if (why) ctx.skip(why);
    const keys = testKeys();
    const stub = readFixture('stub');
    const bases = [
      oursSign(stub, keys.rsa),
      oursSign(oursSign(stub, keys.ec), { key: keys.leaf.key, cert: keys.leaf.chain }, { mode: 'append' }),
      oursSign(buildPe().bytes, keys.ec),
    ];
    const trusted = [...certsOf(keys.rsa.cert), ...certsOf(keys.ca.cert), ...certsOf(keys.ec.cert)];
    for (const b of bases) expect(verifyImage(b, trusted, { mode: 'edk2' }).signatures.every((s) => s.ok)).toBe(true);
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(mutatedSigned(bases), (bytes) => {
        onlyTyped(() => {
          for (const mode of ['kernel', 'edk2'] as const) {
            const r = verifyImage(bytes, trusted, { mode });
            const key = r.ok ? 'ok' : (r.signatures[0]?.failure?.code ?? r.failure?.code ?? '?');
            outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          }
        }, PeError);
      }),
      { numRuns: RUNS, seed: 20260519 },
    );
    // Both accepted and several kinds of rejection were reached.
    expect(outcomes.get('ok') ?? 0).toBeGreaterThan(0);
    expect([...outcomes.keys()].filter((k) => k !== 'ok').length).toBeGreaterThanOrEqual(4);
  });
});
