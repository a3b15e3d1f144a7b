/**
 * Authenticode signing: a DER PKCS#7 SignedData (version 1) over SpcIndirectDataContent, one SignerInfo
 * (IssuerAndSerialNumber, signed attributes contentType, SpcSpOpusInfo, SpcStatementType, messageDigest in
 * DER order), wrapped in a WIN_CERTIFICATE and stored as the image's certificate table.
 */
import { createHash, sign as cryptoSign, type KeyObject } from 'node:crypto';
import {
  encodeCertificateEntry,
  encodeCertificateTable,
  entryBytes,
  padForSigning,
  readCertificateTable,
  readPe,
  setCertificateTable,
  stripSignatures,
} from '../pe/index.ts';
import { type Certificate, keyMatchesCertificate } from './certs.ts';
import { int, octets, oid, readTlv, seq, setOf, sortEncodings, TAG, tlv } from './der.ts';
import { imageDigest } from './digest.ts';
import { AUTHENTICODE_ERROR, AuthenticodeError } from './errors.ts';
import { type DigestAlgorithm, OID } from './oids.ts';
import { digestAlgorithmIdentifier, encodeSpcIndirectData } from './spc.ts';

export interface Signer {
  readonly key: KeyObject;
  readonly certificate: Certificate;
  /** Intermediate certificates to include after the signer's (not the trusted root). */
  readonly chain?: readonly Certificate[];
}

export interface SignOptions {
  /** 'replace' (osslsigncode's default) drops existing signatures; 'append' adds an entry (sbsign ≥ 0.9). */
  readonly mode?: 'replace' | 'append';
  readonly digest?: DigestAlgorithm;
}

const attribute = (type: string, value: Uint8Array): Uint8Array => seq(oid(type), setOf(value));

const signatureAlgorithm = (key: KeyObject, digest: DigestAlgorithm): Uint8Array => {
  if (key.asymmetricKeyType === 'rsa') return seq(oid(OID.RSA_ENCRYPTION), new Uint8Array([TAG.NULL, 0]));
  const ecdsa: Partial<Record<DigestAlgorithm, string>> = {
    sha256: '1.2.840.10045.4.3.2',
    sha384: '1.2.840.10045.4.3.3',
    sha512: '1.2.840.10045.4.3.4',
  };
  const id = ecdsa[digest];
  if (!id)
    throw new AuthenticodeError(AUTHENTICODE_ERROR.UNSUPPORTED_ALGORITHM, `ECDSA with ${digest} is not supported`);
  return seq(oid(id));
};

/** The DER ContentInfo of an Authenticode signature over an image digest. */
export const buildSignedData = (digest: Uint8Array, signer: Signer, alg: DigestAlgorithm = 'sha256'): Uint8Array => {
  const { key, certificate } = signer;
  if (!keyMatchesCertificate(key, certificate)) {
    throw new AuthenticodeError(
      AUTHENTICODE_ERROR.KEY_CERT_MISMATCH,
      `the private key does not belong to the certificate ${certificate.subject}`,
    );
  }
  const content = encodeSpcIndirectData(alg, digest);
  // messageDigest covers the content octets of the SpcIndirectDataContent SEQUENCE, not its tag and length.
  const contentValue = readTlv(content).contents;
  const attributes = sortEncodings([
    attribute(OID.CONTENT_TYPE, oid(OID.SPC_INDIRECT_DATA)),
    attribute(OID.SPC_SP_OPUS_INFO, seq()),
    attribute(OID.SPC_STATEMENT_TYPE, seq(oid(OID.SPC_INDIVIDUAL_SP_KEY_PURPOSE))),
    attribute(OID.MESSAGE_DIGEST, octets(new Uint8Array(createHash(alg).update(contentValue).digest()))),
  ]);
  const signature = new Uint8Array(cryptoSign(alg, tlv(TAG.SET, ...attributes), { key, dsaEncoding: 'der' }));
  const signerInfo = seq(
    int(1),
    seq(certificate.raw.issuer, certificate.raw.serial),
    digestAlgorithmIdentifier(alg),
    tlv(TAG.context(0), ...attributes),
    signatureAlgorithm(key, alg),
    octets(signature),
  );
  const signedData = seq(
    // Version 1: Authenticode's SignedData, whatever CMS would say for a non-data content type.
    int(1),
    setOf(digestAlgorithmIdentifier(alg)),
    seq(oid(OID.SPC_INDIRECT_DATA), tlv(TAG.context(0), content)),
    tlv(TAG.context(0), certificate.der, ...(signer.chain ?? []).map((c) => c.der)),
    setOf(signerInfo),
  );
  return seq(oid(OID.SIGNED_DATA), tlv(TAG.context(0), signedData));
};

/**
 * Signs a PE image. The image is zero-padded to 8 bytes first (the padding is hashed, as with sbsign and
 * osslsigncode), and the new WIN_CERTIFICATE either replaces the table or is appended to it.
 */
export const signImage = (bytes: Uint8Array, signer: Signer, options: SignOptions = {}): Uint8Array => {
  const alg = options.digest ?? 'sha256';
  let base = bytes;
  const kept: Uint8Array[] = [];
  if (options.mode === 'append') {
    const img = readPe(bytes);
    const table = readCertificateTable(img);
    if (table.error) {
      throw new AuthenticodeError(
        AUTHENTICODE_ERROR.BAD_WIN_CERTIFICATE,
        `cannot append to a malformed certificate table: ${table.error.message}`,
        table.error.offset,
      );
    }
    for (const e of table.entries) kept.push(entryBytes(img, e));
  } else {
    base = stripSignatures(bytes);
  }
  const padded = padForSigning(base);
  const digest = imageDigest(readPe(padded), alg);
  const entry = encodeCertificateEntry(buildSignedData(digest, signer, alg));
  return setCertificateTable(padded, encodeCertificateTable([...kept, entry]));
};
