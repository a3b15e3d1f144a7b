import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTHENTICODE_ERROR,
  type Certificate,
  hashedRanges,
  imageDigest,
  isHashed,
  verifyImage,
} from '../../formats/authenticode/index.ts';
import { PE_ERROR, PeError, readCertificateTable, readPe, upsertSection } from '../../formats/pe/index.ts';
import { missingTool } from '../support/env.ts';
import { missingFixture, readFixture, testKeys } from '../support/fixtures.ts';
import { certsOf, hex, oursSign, prng, readBytes, sbsign, write } from './authenticode-support.ts';
import { buildPe } from './pe-build.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ukibpf-digest-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Verification outcome after flipping one byte: the failure code, or "PE" when the image no longer parses. */
const outcome = (bytes: Uint8Array, at: number, trusted: Certificate[], mode: 'kernel' | 'edk2'): string => {
  const copy = bytes.slice();
  copy[at] = copy[at]! ^ 0xff;
  try {
    const r = verifyImage(copy, trusted, { mode });
    return r.ok ? 'ok' : (r.signatures[0]?.failure?.code ?? r.failure?.code ?? 'rejected');
  } catch (e) {
    if (e instanceof PeError) return 'PE';
    throw e;
  }
};

describe('the Authenticode hash', () => {
  it('covers every byte but CheckSum, the certificate directory entry and the certificate table', (ctx) => {
    const why = missingFixture('kernel');
    if (why) ctx.skip(why);
    const img = readPe(readFixture('kernel'));
    const ranges = hashedRanges(img);
    const excluded = [
      { offset: img.offsets.checkSum, size: 4 },
      { offset: img.offsets.securityDirectory!, size: 8 },
      img.certificateTable!,
    ];
    const all = [...ranges, ...excluded].sort((a, b) => a.offset - b.offset);
    let end = 0;
    for (const r of all) {
      expect(r.offset).toBe(end);
      end = r.offset + r.size;
    }
    expect(end).toBe(img.bytes.length);
  });

  it('has no directory entry to skip when NumberOfRvaAndSizes ≤ 4, and such an image cannot carry a signature', (ctx) => {
    const why = missingTool('openssl');
    if (why) ctx.skip(why);
    const img = readPe(buildPe({ dataDirectories: 4 }).bytes);
    expect(img.offsets.securityDirectory).toBeUndefined();
    const headers = hashedRanges(img).filter((r) => r.what === 'headers');
    expect(headers).toEqual([
      { offset: 0, size: img.offsets.checkSum, what: 'headers' },
      {
        offset: img.offsets.checkSum + 4,
        size: img.optional.sizeOfHeaders - img.offsets.checkSum - 4,
        what: 'headers',
      },
    ]);
    let code: string | undefined;
    try {
      oursSign(img.bytes, testKeys().ec);
    } catch (e) {
      if (e instanceof PeError) code = e.code;
    }
    expect(code).toBe(PE_ERROR.BAD_DATA_DIRECTORY_COUNT);
  });

  it('pads an unaligned image to 8 bytes before signing, exactly as sbsign does', (ctx) => {
    const why = missingFixture('stub') ?? missingTool('sbsign', 'openssl');
    if (why) ctx.skip(why);
    const keys = testKeys();
    const stub = readFixture('stub');
    expect(stub.length % 8).not.toBe(0);
    const ours = readPe(oursSign(stub, keys.rsa));
    const theirs = write(dir, 'sbsign.efi', new Uint8Array());
    sbsign(write(dir, 'stub.efi', stub), theirs, keys.rsa);
    const sb = readPe(readBytes(theirs));
    expect(ours.certificateTable!.offset).toBe(Math.ceil(stub.length / 8) * 8);
    expect(sb.certificateTable!.offset).toBe(ours.certificateTable!.offset);
    expect(hex(imageDigest(ours))).toBe(hex(imageDigest(sb)));
    // The padding is hashed (it is trailing data before the table).
    expect(isHashed(hashedRanges(ours), ours.certificateTable!.offset - 1)).toBe(true);
  });

  it('flipping any sampled byte of the hashed range fails verification; flipping excluded bytes does not', (ctx) => {
    const why = missingFixture('stub') ?? missingTool('openssl');
    if (why) ctx.skip(why);
    const keys = testKeys();
    // The stub with a .bpf added: its COFF symbol table now follows .bpf and must stay covered.
    const withBpf = upsertSection(readFixture('stub'), { name: '.bpf', data: new Uint8Array(3000).fill(0x95) });
    const signed = oursSign(withBpf, keys.ec);
    const trusted = certsOf(keys.ec.cert);
    const img = readPe(signed);
    expect(verifyImage(signed, trusted).ok).toBe(true);
    const ranges = hashedRanges(img);
    const random = prng(0x5eed);
    const samples: { at: number; what: string }[] = [];
    // Every hashed range gets samples (headers, each section, the symbol table and padding after them).
    for (const r of ranges) {
      const n = Math.max(2, Math.round((60 * r.size) / signed.length));
      for (let i = 0; i < n; i++) samples.push({ at: r.offset + Math.floor(random() * r.size), what: r.what });
    }
    expect(samples.length).toBeGreaterThanOrEqual(50);
    expect(new Set(samples.map((s) => s.what))).toEqual(
      new Set([...img.sections.map((s) => s.name), 'headers', 'trailing data']),
    );
    for (const { at, what } of samples) {
      for (const mode of ['kernel', 'edk2'] as const) {
        const got = outcome(signed, at, trusted, mode);
        if (what === 'headers') expect(got, `header byte 0x${at.toString(16)} (${mode})`).not.toBe('ok');
        else expect(got, `${what} byte 0x${at.toString(16)} (${mode})`).toBe(AUTHENTICODE_ERROR.IMAGE_DIGEST_MISMATCH);
      }
    }
    // Excluded: CheckSum, and the zero padding of the WIN_CERTIFICATE entry (outside the DER signature).
    const entry = readCertificateTable(img).entries[0]!;
    const padding = [];
    for (let at = entry.offset + entry.length; at < img.certificateTable!.offset + img.certificateTable!.size; at++)
      padding.push(at);
    for (const at of [0, 1, 2, 3].map((i) => img.offsets.checkSum + i).concat(padding)) {
      expect(outcome(signed, at, trusted, 'kernel'), `excluded byte 0x${at.toString(16)}`).toBe('ok');
    }
    // The table itself is not hashed but the signature inside it is signed data: tampering there fails too.
    expect(outcome(signed, entry.offset + entry.length - 10, trusted, 'kernel')).not.toBe('ok');
  });
});
