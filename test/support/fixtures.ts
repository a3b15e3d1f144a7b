/**
 * Real inputs for format tests: the Debian packages `scripts/fixtures.sh` unpacks into
 * .cache/fixtures/debian/ (tests skip by name when they are missing), and test keys and certificates made
 * with `openssl req -x509` into .cache/keys/ (RSA, EC P-256, and a CA with an EC leaf it issued).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './clang.ts';
import { findTool } from './env.ts';

export const DEBIAN_FIXTURES = join(REPO_ROOT, '.cache/fixtures/debian');

const FIXTURES = {
  /** systemd-boot-efi's x86-64 UKI stub (systemd 252 on Debian 12: carries a COFF symbol table at EOF). */
  stub: () => join(DEBIAN_FIXTURES, 'systemd-boot-efi/usr/lib/systemd/boot/efi/linuxx64.efi.stub'),
  /** The addon-less boot manager of the same package, another real PE. */
  bootManager: () => join(DEBIAN_FIXTURES, 'systemd-boot-efi/usr/lib/systemd/boot/efi/systemd-bootx64.efi'),
  /** linux-image-*-cloud-amd64's vmlinuz: an x86 bzImage with an EFI stub, signed by Debian. */
  kernel: () => {
    const dir = join(DEBIAN_FIXTURES, 'linux-image-cloud-amd64/boot');
    const name = existsSync(dir) ? readdirSync(dir).find((f) => f.startsWith('vmlinuz-')) : undefined;
    return name ? join(dir, name) : join(dir, 'vmlinuz-*');
  },
} as const;
export type Fixture = keyof typeof FIXTURES;

/** Path of a Debian fixture (which may not exist; see missingFixture). */
export const fixturePath = (which: Fixture): string => FIXTURES[which]();

/** Reason a test needing the fixture cannot run, or undefined. */
export const missingFixture = (...which: Fixture[]): string | undefined => {
  const missing = which.filter((w) => !existsSync(fixturePath(w)));
  return missing.length
    ? `needs the Debian fixture(s) ${missing.join(', ')}: run scripts/fixtures.sh (apt-get download, needs the network)`
    : undefined;
};

export const readFixture = (which: Fixture): Uint8Array => new Uint8Array(readFileSync(fixturePath(which)));

const KEYS = join(REPO_ROOT, '.cache/keys');

export interface KeyFiles {
  /** PEM PKCS#8 private key, as `openssl req -newkey` writes it. */
  readonly key: string;
  /** PEM certificate. */
  readonly cert: string;
}

export interface TestKeys {
  readonly rsa: KeyFiles & {
    readonly pkcs1Pem: string;
    readonly pkcs1Der: string;
    readonly pkcs8Der: string;
    readonly certDer: string;
  };
  readonly ec: KeyFiles & { readonly sec1Pem: string; readonly sec1Der: string };
  /** A CA (RSA) and an EC leaf it issued; `chain` holds leaf then CA certificates. */
  readonly ca: KeyFiles;
  readonly leaf: KeyFiles & { readonly chain: string };
  /** An unrelated self-signed certificate nothing is signed with. */
  readonly stranger: KeyFiles;
}

const openssl = (dir: string, ...args: string[]): void => {
  const r = spawnSync(findTool('openssl') ?? 'openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${r.stderr}`);
};

const files = (dir: string): TestKeys => {
  const p = (n: string): string => join(dir, n);
  return {
    rsa: {
      key: p('rsa.key'),
      cert: p('rsa.crt'),
      pkcs1Pem: p('rsa.pkcs1.pem'),
      pkcs1Der: p('rsa.pkcs1.der'),
      pkcs8Der: p('rsa.pkcs8.der'),
      certDer: p('rsa.crt.der'),
    },
    ec: { key: p('ec.key'), cert: p('ec.crt'), sec1Pem: p('ec.sec1.pem'), sec1Der: p('ec.sec1.der') },
    ca: { key: p('ca.key'), cert: p('ca.crt') },
    leaf: { key: p('leaf.key'), cert: p('leaf.crt'), chain: p('leaf-chain.crt') },
    stranger: { key: p('stranger.key'), cert: p('stranger.crt') },
  };
};

const CODE_SIGNING = ['-addext', 'extendedKeyUsage=codeSigning', '-addext', 'keyUsage=critical,digitalSignature'];

const generate = (dir: string): void => {
  const selfSigned = (name: string, subject: string, keySpec: string[]): void =>
    openssl(
      dir,
      'req',
      '-x509',
      '-newkey',
      ...keySpec,
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '3650',
      '-subj',
      subject,
      ...CODE_SIGNING,
    );
  selfSigned('rsa', '/CN=ukibpf test RSA/O=ukibpf', ['rsa:2048']);
  selfSigned('ec', '/CN=ukibpf test EC', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
  selfSigned('stranger', '/CN=ukibpf stranger', ['rsa:2048']);
  openssl(dir, 'rsa', '-in', 'rsa.key', '-traditional', '-out', 'rsa.pkcs1.pem');
  openssl(dir, 'rsa', '-in', 'rsa.key', '-traditional', '-outform', 'DER', '-out', 'rsa.pkcs1.der');
  openssl(dir, 'pkcs8', '-topk8', '-nocrypt', '-in', 'rsa.key', '-outform', 'DER', '-out', 'rsa.pkcs8.der');
  openssl(dir, 'x509', '-in', 'rsa.crt', '-outform', 'DER', '-out', 'rsa.crt.der');
  openssl(dir, 'ec', '-in', 'ec.key', '-out', 'ec.sec1.pem');
  openssl(dir, 'ec', '-in', 'ec.key', '-outform', 'DER', '-out', 'ec.sec1.der');
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '3650',
    '-subj',
    '/CN=ukibpf test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  );
  openssl(
    dir,
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'leaf.key',
    '-out',
    'leaf.csr',
    '-subj',
    '/CN=ukibpf test leaf',
  );
  writeFileSync(join(dir, 'leaf.ext'), 'extendedKeyUsage=codeSigning\nkeyUsage=critical,digitalSignature\n');
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    'leaf.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-set_serial',
    '4242',
    '-days',
    '3650',
    '-extfile',
    'leaf.ext',
    '-out',
    'leaf.crt',
  );
  writeFileSync(
    join(dir, 'leaf-chain.crt'),
    readFileSync(join(dir, 'leaf.crt'), 'latin1') + readFileSync(join(dir, 'ca.crt'), 'latin1'),
  );
};

/** Test keys and certificates, generated once into .cache/keys (concurrent callers race safely). */
export const testKeys = (): TestKeys => {
  const done = join(KEYS, '.done');
  if (!existsSync(done)) {
    mkdirSync(join(REPO_ROOT, '.cache'), { recursive: true });
    const tmp = `${KEYS}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    mkdirSync(tmp);
    try {
      generate(tmp);
      writeFileSync(join(tmp, '.done'), '');
      if (!existsSync(done)) {
        rmSync(KEYS, { recursive: true, force: true });
        renameSync(tmp, KEYS);
      }
    } catch (e) {
      if (!existsSync(done)) throw e;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return files(KEYS);
};
