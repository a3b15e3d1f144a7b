import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuthenticodeError, hashedRanges, imageDigest } from '../../formats/authenticode/index.ts';
import {
  PeError,
  readCertificateTable,
  readPe,
  sectionData,
  stripSignatures,
  upsertSection,
  virtualExtent,
} from '../../formats/pe/index.ts';
import { missingFixture, readFixture } from '../support/fixtures.ts';
import { buildPe } from './pe-build.ts';
import { mutated, onlyTyped } from './pe-mutate.ts';

const RUNS = 2000;

describe('PE reader and writer on mutated real files', () => {
  it(`reading, hashing and rewriting ${RUNS} mutated images raises only PeError / AuthenticodeError`, (ctx) => {
    const why = missingFixture('stub', 'bootManager');
    if (why) ctx.skip(why);
    const bases = [readFixture('stub'), readFixture('bootManager'), buildPe().bytes];
    let parsed = 0;
    fc.assert(
      fc.property(mutated(bases), (bytes) => {
        onlyTyped(() => {
          const img = readPe(bytes);
          parsed++;
          for (const s of img.sections) {
            // Skip materialising huge zero-filled sections: the cap is tested separately.
            if (virtualExtent(s) <= s.sizeOfRawData + 0x100000) sectionData(img, s);
          }
          readCertificateTable(img);
          onlyTyped(() => imageDigest(img), AuthenticodeError);
          onlyTyped(() => hashedRanges(img), AuthenticodeError);
          onlyTyped(() => stripSignatures(bytes), PeError);
          onlyTyped(
            () => upsertSection(bytes, { name: '.bpf', data: bytes.subarray(0, 100) }, { stripSignatures: true }),
            PeError,
          );
        }, PeError);
      }),
      { numRuns: RUNS, seed: 20260519 },
    );
    // The mutations are not so wild that nothing parses: both paths are exercised.
    expect(parsed).toBeGreaterThan(RUNS / 10);
    expect(parsed).toBeLessThan(RUNS);
  });

  it('refuses to materialise a zero-filled section beyond the cap', () => {
    const { bytes, at } = buildPe();
    const huge = bytes.slice();
    const dv = new DataView(huge.buffer);
    dv.setUint32(at.optional + 56, 0xf0000000, true);
    dv.setUint32(at.sections[1]!.header + 8, 0x20000000, true);
    const img = readPe(huge);
    expect(() => sectionData(img, img.sections[1]!)).toThrow(PeError);
  });
});
