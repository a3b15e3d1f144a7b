/** Helpers for the Authenticode tests: the Debian tools, our signer from key files, temp files. */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Certificate,
  loadCertificates,
  loadPrivateKey,
  type SignOptions,
  signImage,
} from '../../formats/authenticode/index.ts';
import type { KeyFiles } from '../support/fixtures.ts';

export const run = (cmd: string, ...args: string[]): { status: number | null; out: string } => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
};

export const certsOf = (file: string): Certificate[] => loadCertificates(readFileSync(file), file);

/** Signs with our implementation from key/cert files (the cert file may carry a chain after the signer). */
export const oursSign = (image: Uint8Array, keys: KeyFiles, options: SignOptions = {}): Uint8Array => {
  const [certificate, ...chain] = certsOf(keys.cert);
  return signImage(
    image,
    { key: loadPrivateKey(readFileSync(keys.key), keys.key), certificate: certificate!, chain },
    options,
  );
};

export const sbverify = (file: string, cert: string): boolean => run('sbverify', '--cert', cert, file).status === 0;

/** osslsigncode verify against a CA file; the exit status says whether the signature checked out. */
export const osslVerify = (file: string, caFile: string): { ok: boolean; out: string } => {
  const r = run('osslsigncode', 'verify', '-CAfile', caFile, '-in', file);
  return { ok: r.status === 0, out: r.out };
};

/** The image digest osslsigncode computes ("Calculated message digest"), lower-case hex. */
export const osslDigest = (file: string, caFile: string): string | undefined =>
  /Calculated message digest\s*:\s*([0-9A-F]+)/.exec(osslVerify(file, caFile).out)?.[1]?.toLowerCase();

export const sbsign = (input: string, output: string, keys: KeyFiles): void => {
  const r = run('sbsign', '--key', keys.key, '--cert', keys.cert, '--output', output, input);
  if (r.status !== 0) throw new Error(`sbsign failed: ${r.out}`);
};

export const osslSign = (input: string, output: string, keys: KeyFiles, hash = 'sha256'): void => {
  const r = run(
    'osslsigncode',
    'sign',
    '-h',
    hash,
    '-certs',
    keys.cert,
    '-key',
    keys.key,
    '-in',
    input,
    '-out',
    output,
  );
  if (r.status !== 0) throw new Error(`osslsigncode sign failed: ${r.out}`);
};

export const write = (dir: string, name: string, bytes: Uint8Array): string => {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
};

export const readBytes = (file: string): Uint8Array => new Uint8Array(readFileSync(file));

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A small deterministic PRNG (mulberry32) for sampling offsets reproducibly. */
export const prng = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};
