/**
 * X.509 certificates and signing keys: PEM or DER input, parsed with pkijs, with the raw encodings of the
 * fields that signing and trust decisions compare byte for byte (issuer, serial, subject, public key).
 */
import { createPrivateKey, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as Pkijs from 'pkijs';
import { bytesEqual, childrenOf, readTlv, TAG, type Tlv, toHex } from './der.ts';
import { AUTHENTICODE_ERROR, AuthenticodeError } from './errors.ts';
import { type DigestAlgorithm, NAME_ATTRIBUTES, OID, SIGNATURE_OIDS } from './oids.ts';

/** pkijs, loaded on first use: it costs ~50 ms to load, in every thread that would import it eagerly. */
let pkijsModule: typeof Pkijs | undefined;
const pkijs = (): typeof Pkijs => {
  pkijsModule ??= createRequire(import.meta.url)('pkijs') as typeof Pkijs;
  return pkijsModule;
};

export interface Certificate {
  /** The certificate exactly as given. */
  readonly der: Uint8Array;
  /** OpenSSL-style one-line names ("/CN=Debian Secure Boot CA"), as sbverify and osslsigncode print them. */
  readonly subject: string;
  readonly issuer: string;
  /** Serial number in upper-case hex, as osslsigncode prints it. */
  readonly serial: string;
  readonly raw: {
    readonly tbs: Uint8Array;
    /** The serial number INTEGER, tag and length included. */
    readonly serial: Uint8Array;
    readonly issuer: Uint8Array;
    readonly subject: Uint8Array;
    readonly subjectPublicKeyInfo: Uint8Array;
    /** The subjectKeyIdentifier extension's key id, when present. */
    readonly subjectKeyIdentifier: Uint8Array | undefined;
  };
  readonly keyType: 'rsa' | 'ec' | 'other';
  readonly signatureAlgorithm: string;
  readonly signature: Uint8Array;
}

export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly serial: string;
}

export const summary = (c: Certificate): CertificateSummary => ({
  subject: c.subject,
  issuer: c.issuer,
  serial: c.serial,
});

const bad = (what: string, why: string, cause?: unknown): AuthenticodeError =>
  new AuthenticodeError(AUTHENTICODE_ERROR.BAD_CERTIFICATE, `${what}: ${why}`, undefined, { cause });

const formatName = (name: Pkijs.RelativeDistinguishedNames): string =>
  name.typesAndValues
    .map((tv) => {
      const key = NAME_ATTRIBUTES[tv.type] ?? tv.type;
      const block = (tv.value as { valueBlock?: { value?: unknown } }).valueBlock;
      const value = typeof block?.value === 'string' ? block.value : `#${toHex(new Uint8Array(tv.value.toBER()))}`;
      return `/${key}=${value}`;
    })
    .join('');

const parseUncached = (der: Uint8Array, what: string): Certificate => {
  let cert: Pkijs.Certificate;
  try {
    cert = pkijs().Certificate.fromBER(der);
  } catch (e) {
    throw bad(what, e instanceof Error ? e.message : String(e), e);
  }
  // Raw fields: Certificate = SEQ { tbs, signatureAlgorithm, signature }; tbs = SEQ { [0] version?, serial,
  // signature, issuer, validity, subject, spki, ... }.
  let top: Tlv[];
  let fields: Tlv[];
  try {
    top = childrenOf(readTlv(der));
    fields = childrenOf(top[0]!);
  } catch (e) {
    throw bad(what, e instanceof Error ? e.message : String(e), e);
  }
  const start = fields[0]?.tag === TAG.context(0) ? 1 : 0;
  const pick = (i: number, label: string): Uint8Array => {
    const node = fields[start + i];
    if (!node) throw bad(what, `TBSCertificate has no ${label}`);
    return node.raw;
  };
  const ski = cert.extensions?.find((e) => e.extnID === OID.SUBJECT_KEY_IDENTIFIER);
  let subjectKeyIdentifier: Uint8Array | undefined;
  if (ski) {
    try {
      subjectKeyIdentifier = readTlv(new Uint8Array(ski.extnValue.valueBlock.valueHexView)).contents;
    } catch (e) {
      throw bad(what, 'malformed subjectKeyIdentifier', e);
    }
  }
  const keyOid = cert.subjectPublicKeyInfo.algorithm.algorithmId;
  return {
    der,
    subject: formatName(cert.subject),
    issuer: formatName(cert.issuer),
    serial: toHex(new Uint8Array(cert.serialNumber.valueBlock.valueHexView)).toUpperCase(),
    raw: {
      tbs: top[0]!.raw,
      serial: pick(0, 'serialNumber'),
      issuer: pick(2, 'issuer'),
      subject: pick(4, 'subject'),
      subjectPublicKeyInfo: pick(5, 'subjectPublicKeyInfo'),
      subjectKeyIdentifier,
    },
    keyType: keyOid === OID.RSA_ENCRYPTION ? 'rsa' : keyOid === OID.EC_PUBLIC_KEY ? 'ec' : 'other',
    signatureAlgorithm: cert.signatureAlgorithm.algorithmId,
    signature: new Uint8Array(cert.signatureValue.valueBlock.valueHexView),
  };
};

/** Certificates seen recently, by encoding: signatures carry the same few certificates over and over. */
const cache = new Map<string, Certificate>();
const CACHE_SIZE = 64;

/** Parses one DER certificate (copied, so the result does not pin the caller's buffer). */
export const parseCertificate = (der: Uint8Array, what = 'certificate'): Certificate => {
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const hit = cache.get(key);
  if (hit) return hit;
  const cert = parseUncached(der.slice(), what);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, cert);
  return cert;
};

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

const pemBlocks = (text: string): { label: string; der: Uint8Array }[] =>
  [...text.matchAll(PEM_BLOCK)].map((m) => ({
    label: m[1]!,
    der: new Uint8Array(Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64')),
  }));

const looksLikePem = (bytes: Uint8Array): boolean =>
  Buffer.from(bytes.subarray(0, 4096)).toString('latin1').includes('-----BEGIN ');

/** Every certificate in a PEM file (in order), or the one DER certificate. */
export const loadCertificates = (bytes: Uint8Array, source = 'certificate'): Certificate[] => {
  if (!looksLikePem(bytes)) return [parseCertificate(bytes, source)];
  const blocks = pemBlocks(Buffer.from(bytes).toString('latin1')).filter((b) =>
    /^(X509 |TRUSTED )?CERTIFICATE$/.test(b.label),
  );
  if (blocks.length === 0) throw bad(source, 'no "BEGIN CERTIFICATE" block in the PEM file');
  return blocks.map((b, i) => parseCertificate(b.der, `${source} #${i + 1}`));
};

/**
 * A private key from PEM (PKCS#8, PKCS#1 "RSA PRIVATE KEY", SEC1 "EC PRIVATE KEY") or DER (tried as PKCS#8,
 * PKCS#1, SEC1). RSA and ECDSA P-256/P-384 keys are supported; encrypted keys are refused.
 */
export const loadPrivateKey = (bytes: Uint8Array, source = 'key'): KeyObject => {
  let key: KeyObject | undefined;
  let lastError: unknown;
  if (looksLikePem(bytes)) {
    try {
      key = createPrivateKey({ key: Buffer.from(bytes).toString('latin1'), format: 'pem' });
    } catch (e) {
      lastError = e;
    }
  } else {
    for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
      try {
        key = createPrivateKey({ key: Buffer.from(bytes), format: 'der', type });
        break;
      } catch (e) {
        lastError = e;
      }
    }
  }
  if (!key) {
    const why = lastError instanceof Error ? lastError.message : 'unrecognised format';
    throw new AuthenticodeError(AUTHENTICODE_ERROR.BAD_KEY, `${source}: not a usable private key (${why})`, undefined, {
      cause: lastError,
    });
  }
  const type = key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (type !== 'rsa' && !(type === 'ec' && (curve === 'prime256v1' || curve === 'secp384r1'))) {
    throw new AuthenticodeError(
      AUTHENTICODE_ERROR.BAD_KEY,
      `${source}: ${type}${curve ? ` (${curve})` : ''} keys are not supported; use RSA or ECDSA P-256/P-384`,
    );
  }
  return key;
};

/** The key's SubjectPublicKeyInfo, to compare with a certificate's. */
export const publicKeyInfoOf = (key: KeyObject): Uint8Array =>
  new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }));

export const keyMatchesCertificate = (key: KeyObject, cert: Certificate): boolean =>
  bytesEqual(publicKeyInfoOf(key), cert.raw.subjectPublicKeyInfo);

/** Verifies `signature` over `data` with the key in `spki`; false (never throws) on any mismatch. */
export const verifyWith = (
  spki: Uint8Array,
  keyType: 'rsa' | 'ec' | 'other',
  digest: DigestAlgorithm,
  data: Uint8Array,
  signature: Uint8Array,
): boolean => {
  if (keyType === 'other') return false;
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    return cryptoVerify(digest, data, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
};

/** Whether `parent` issued `child`: names match and the child's signature verifies with the parent's key. */
export const issuedBy = (child: Certificate, parent: Certificate): boolean => {
  if (!bytesEqual(child.raw.issuer, parent.raw.subject)) return false;
  const alg = SIGNATURE_OIDS[child.signatureAlgorithm];
  if (!alg?.digest || alg.key !== parent.keyType) return false;
  return verifyWith(parent.raw.subjectPublicKeyInfo, parent.keyType, alg.digest, child.raw.tbs, child.signature);
};

/** Same certificate, or at least the same subject and key (what a keyring entry identifies). */
export const sameCertificate = (a: Certificate, b: Certificate): boolean =>
  bytesEqual(a.der, b.der) ||
  (bytesEqual(a.raw.subject, b.raw.subject) && bytesEqual(a.raw.subjectPublicKeyInfo, b.raw.subjectPublicKeyInfo));
