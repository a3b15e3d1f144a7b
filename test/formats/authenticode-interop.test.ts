import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTHENTICODE_ERROR,
  AuthenticodeError,
  imageDigest,
  listSignatures,
  loadCertificates,
  loadPrivateKey,
  parseCertificate,
  signImage,
  verifyImage,
} from '../../formats/authenticode/index.ts';
import { readCertificateTable, readPe } from '../../formats/pe/index.ts';
import { missingTool } from '../support/env.ts';
import { missingFixture, readFixture, type TestKeys, testKeys } from '../support/fixtures.ts';
import {
  certsOf,
  hex,
  osslDigest,
  osslSign,
  osslVerify,
  oursSign,
  readBytes,
  run,
  sbsign,
  sbverify,
  write,
} from './authenticode-support.ts';
import { buildPe } from './pe-build.ts';

let dir: string;
let keys: TestKeys;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ukibpf-authenticode-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOOLS = ['sbsign', 'sbverify', 'osslsigncode', 'openssl'];
const needs = (ctx: { skip: (why: string) => void }, ...fixtures: ('stub' | 'kernel')[]): void => {
  const why = missingTool(...TOOLS) ?? (fixtures.length ? missingFixture(...fixtures) : undefined);
  if (why) ctx.skip(why);
  keys = testKeys();
};

const images = (): [string, Uint8Array][] => [
  ['the systemd 252 stub', readFixture('stub')],
  ['a small built PE', buildPe().bytes],
];

describe('our signatures, checked by sbverify and osslsigncode', () => {
  for (const kind of ['rsa', 'ec'] as const) {
    it(`${kind.toUpperCase()}: sbverify --cert and osslsigncode verify accept them, and agree on the image digest`, (ctx) => {
      needs(ctx, 'stub');
      for (const [name, image] of images()) {
        const signed = oursSign(image, keys[kind]);
        const file = write(dir, `${kind}-${name.replace(/ /g, '-')}.efi`, signed);
        expect(sbverify(file, keys[kind].cert), `sbverify on ${name}`).toBe(true);
        const ossl = osslVerify(file, keys[kind].cert);
        expect(ossl.ok, `osslsigncode on ${name}: ${ossl.out}`).toBe(true);
        expect(osslDigest(file, keys[kind].cert)).toBe(hex(imageDigest(readPe(signed))));
        // Not vacuous: an unrelated certificate is refused by both tools.
        expect(sbverify(file, keys.stranger.cert)).toBe(false);
        expect(osslVerify(file, keys.stranger.cert).ok).toBe(false);
      }
    });
  }

  it('a leaf issued by a CA (chain carried in the signature) verifies against the CA with all three verifiers', (ctx) => {
    needs(ctx, 'stub');
    const signed = oursSign(readFixture('stub'), { key: keys.leaf.key, cert: keys.leaf.chain });
    const file = write(dir, 'leaf.efi', signed);
    expect(sbverify(file, keys.ca.cert)).toBe(true);
    expect(osslVerify(file, keys.ca.cert).ok).toBe(true);
    const r = verifyImage(signed, certsOf(keys.ca.cert));
    expect(r.ok).toBe(true);
    expect(r.signatures[0]).toMatchObject({
      signer: { subject: '/CN=ukibpf test leaf' },
      trustedBy: { subject: '/CN=ukibpf test CA' },
    });
    // Without the CA in the signature the leaf is still issued directly by the trusted CA.
    const bare = oursSign(readFixture('stub'), keys.leaf);
    expect(verifyImage(bare, certsOf(keys.ca.cert)).ok).toBe(true);
    expect(verifyImage(bare, certsOf(keys.rsa.cert)).signatures[0]!.failure?.code).toBe(AUTHENTICODE_ERROR.UNTRUSTED);
  });

  it('appends a second signature like sbsign: the kernel checks only the first, EDK2 any', (ctx) => {
    needs(ctx, 'stub');
    const both = oursSign(oursSign(readFixture('stub'), keys.rsa), keys.ec, { mode: 'append' });
    const file = write(dir, 'both.efi', both);
    expect(sbverify(file, keys.rsa.cert)).toBe(true);
    expect(sbverify(file, keys.ec.cert)).toBe(true);
    expect(run('sbverify', '--list', file).out).toMatch(/signature 2/);
    expect(readCertificateTable(readPe(both)).entries.map((e) => e.index)).toEqual([0, 1]);
    const ec = certsOf(keys.ec.cert);
    expect(verifyImage(both, ec, { mode: 'kernel' })).toMatchObject({
      ok: false,
      signatures: [{ index: 0, sound: true }],
    });
    expect(verifyImage(both, ec, { mode: 'edk2' })).toMatchObject({
      ok: true,
      signatures: [{ ok: false }, { ok: true }],
    });
    // Replacing (the default) leaves only the new one.
    const replaced = oursSign(both, keys.ec);
    expect(listSignatures(replaced)).toHaveLength(1);
    expect(verifyImage(replaced, ec).ok).toBe(true);
  });
});

describe('signatures made by the Debian tools, checked by us', () => {
  it('sbsign (RSA and EC) and osslsigncode (SHA-1/256/384/512, chain) signatures verify in both modes', (ctx) => {
    needs(ctx, 'stub');
    const input = write(dir, 'stub.efi', readFixture('stub'));
    const made: [string, string, string][] = [];
    for (const kind of ['rsa', 'ec'] as const) {
      const out = join(dir, `sbsign-${kind}.efi`);
      sbsign(input, out, keys[kind]);
      made.push([`sbsign ${kind}`, out, keys[kind].cert]);
    }
    for (const hash of ['sha1', 'sha256', 'sha384', 'sha512']) {
      const out = join(dir, `ossl-${hash}.efi`);
      osslSign(input, out, { key: keys.leaf.key, cert: keys.leaf.chain }, hash);
      made.push([`osslsigncode ${hash}`, out, keys.ca.cert]);
    }
    for (const [what, file, trust] of made) {
      const bytes = readBytes(file);
      for (const mode of ['kernel', 'edk2'] as const) {
        const r = verifyImage(bytes, certsOf(trust), { mode });
        expect(r.ok, `${what} (${mode}): ${JSON.stringify(r.signatures[0]?.failure)}`).toBe(true);
      }
      const stranger = verifyImage(bytes, certsOf(keys.stranger.cert));
      expect(stranger.signatures[0]).toMatchObject({
        ok: false,
        sound: true,
        failure: { code: AUTHENTICODE_ERROR.UNTRUSTED },
      });
      expect(stranger.signatures[0]!.imageDigest).toBe(osslDigest(file, trust));
    }
    expect(made.map(([, file]) => listSignatures(readBytes(file))[0]!.digestAlgorithm)).toEqual([
      'sha256',
      'sha256',
      'sha1',
      'sha256',
      'sha384',
      'sha512',
    ]);
  });

  it("verifies Debian's own signature on the kernel against its embedded signer certificate", (ctx) => {
    needs(ctx, 'kernel');
    const kernel = readFixture('kernel');
    const [report] = listSignatures(kernel);
    expect(report).toMatchObject({
      sound: true,
      digestAlgorithm: 'sha256',
      signer: { subject: '/CN=Debian Secure Boot Signer 2022 - linux', issuer: '/CN=Debian Secure Boot CA' },
    });
    const file = write(dir, 'vmlinuz', kernel);
    expect(report!.imageDigest).toBe(osslDigest(file, keys.stranger.cert));
    expect(report!.imageDigest).toBe(hex(imageDigest(readPe(kernel))));
    // Trust the signer certificate as carried in the PKCS#7 (the kernel would hold Debian's CA instead).
    const der = extractSignerCertificate(kernel);
    expect(verifyImage(kernel, [parseCertificate(der)])).toMatchObject({ ok: true });
    expect(verifyImage(kernel, certsOf(keys.stranger.cert)).ok).toBe(false);
  });
});

/** The signer's DER certificate, cut out of the first signature with openssl pkcs7 -print_certs. */
const extractSignerCertificate = (image: Uint8Array): Uint8Array => {
  const entry = readCertificateTable(readPe(image)).entries[0]!;
  const p7 = write(dir, 'sig.p7', entry.data);
  const pem = join(dir, 'sig.pem');
  const r = run('openssl', 'pkcs7', '-inform', 'DER', '-in', p7, '-print_certs', '-out', pem);
  expect(r.status, r.out).toBe(0);
  return certsOf(pem).find((c) => c.subject.includes('Signer'))!.der;
};

describe('keys and certificates', () => {
  it('signs with PKCS#1 and PKCS#8 RSA keys and SEC1 EC keys, PEM or DER, and a DER certificate', (ctx) => {
    needs(ctx);
    const image = buildPe().bytes;
    const variants: [string, string, string][] = [
      ['rsa pkcs1 pem', keys.rsa.pkcs1Pem, keys.rsa.cert],
      ['rsa pkcs1 der', keys.rsa.pkcs1Der, keys.rsa.certDer],
      ['rsa pkcs8 der', keys.rsa.pkcs8Der, keys.rsa.cert],
      ['ec sec1 pem', keys.ec.sec1Pem, keys.ec.cert],
      ['ec sec1 der', keys.ec.sec1Der, keys.ec.cert],
    ];
    for (const [what, key, cert] of variants) {
      const signed = oursSign(image, { key, cert });
      expect(verifyImage(signed, certsOf(cert)).ok, what).toBe(true);
      expect(sbverify(write(dir, 'variant.efi', signed), keys[what.startsWith('rsa') ? 'rsa' : 'ec'].cert), what).toBe(
        true,
      );
    }
  });

  it('refuses a key that does not match the certificate, and unusable keys and certificates, with typed errors', (ctx) => {
    needs(ctx);
    const image = buildPe().bytes;
    const code = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        if (e instanceof AuthenticodeError) return e.code;
        throw e;
      }
      return 'no error';
    };
    const ecCert = loadCertificates(readFileSync(keys.ec.cert))[0]!;
    const rsaKey = loadPrivateKey(readFileSync(keys.rsa.key));
    expect(code(() => signImage(image, { key: rsaKey, certificate: ecCert }))).toBe(
      AUTHENTICODE_ERROR.KEY_CERT_MISMATCH,
    );
    expect(code(() => loadPrivateKey(new TextEncoder().encode('not a key')))).toBe(AUTHENTICODE_ERROR.BAD_KEY);
    expect(code(() => loadCertificates(new Uint8Array([0x30, 0x03, 1, 2, 3])))).toBe(
      AUTHENTICODE_ERROR.BAD_CERTIFICATE,
    );
    expect(
      code(() => loadCertificates(new TextEncoder().encode('-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----'))),
    ).toBe(AUTHENTICODE_ERROR.BAD_CERTIFICATE);
    const ed = join(dir, 'ed25519.key');
    expect(run('openssl', 'genpkey', '-algorithm', 'ed25519', '-out', ed).status).toBe(0);
    expect(code(() => loadPrivateKey(readFileSync(ed)))).toBe(AUTHENTICODE_ERROR.BAD_KEY);
  });
});
