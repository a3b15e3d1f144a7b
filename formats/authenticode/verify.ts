/**
 * Authenticode verification with the semantics of the two verifiers that matter for kexec and boot:
 *  - 'kernel' (verify_pefile + pkcs7_verify + pkcs7_validate_trust): only the FIRST WIN_CERTIFICATE counts;
 *  - 'edk2' (DxeImageVerificationLib): every entry is tried, the table must walk exactly to its end, and
 *    one trusted signature is enough.
 * A signature is trusted when its signer certificate is one of the trusted certificates, or is issued by
 * one, directly or through certificates carried in the SignedData (validity dates are ignored, as both do).
 */
import { createHash } from 'node:crypto';
import { type PeImage, readCertificateTable, readPe, WIN_CERT, type WinCertificate } from '../pe/index.ts';
import {
  type Certificate,
  type CertificateSummary,
  issuedBy,
  parseCertificate,
  sameCertificate,
  summary,
  verifyWith,
} from './certs.ts';
import { bytesEqual, childrenOf, expectTag, oidOf, readTlv, TAG, type Tlv, toHex } from './der.ts';
import { imageDigest } from './digest.ts';
import { AUTHENTICODE_ERROR, AuthenticodeError, type AuthenticodeErrorCode } from './errors.ts';
import { type DigestAlgorithm, digestByOid, OID, SIGNATURE_OIDS } from './oids.ts';
import { decodeSpcIndirectData } from './spc.ts';

export type VerifyMode = 'kernel' | 'edk2';

export interface Failure {
  readonly code: AuthenticodeErrorCode;
  readonly message: string;
}

export interface SignatureReport {
  /** Index of the WIN_CERTIFICATE entry. */
  readonly index: number;
  /** File offset of the entry. */
  readonly offset: number;
  /** Sound (digests and signature check out) and trusted. */
  readonly ok: boolean;
  /** Digests and signature check out, trust aside. */
  readonly sound: boolean;
  readonly failure: Failure | undefined;
  readonly digestAlgorithm: DigestAlgorithm | undefined;
  /** The image digest the signature carries (hex). */
  readonly imageDigest: string | undefined;
  readonly signer: CertificateSummary | undefined;
  /** The trusted certificate the signer chained to. */
  readonly trustedBy: CertificateSummary | undefined;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly mode: VerifyMode;
  /** Reports for the entries the mode looks at (kernel: the first only). */
  readonly signatures: readonly SignatureReport[];
  /** An image-level reason for rejection (unsigned, malformed table), if any. */
  readonly failure: Failure | undefined;
}

/** The kernel's 0x83+ length forms are -EMSGSIZE: a kexec signature must be below 64 KiB. */
const KERNEL_MAX_LENGTH_OCTETS = 2;
const MAX_CHAIN = 8;

const fail = (code: AuthenticodeErrorCode, message: string, offset?: number): never => {
  throw new AuthenticodeError(code, message, offset);
};

/** The PKCS#7 ContentInfo of an entry, after the wrapper checks verify_pefile makes. */
const unwrap = (e: WinCertificate, mode: VerifyMode): Tlv => {
  if (e.revision !== WIN_CERT.REVISION_2_0) {
    fail(
      AUTHENTICODE_ERROR.BAD_WIN_CERTIFICATE,
      `WIN_CERTIFICATE ${e.index}: revision 0x${e.revision.toString(16)} is not 2.0`,
      e.offset,
    );
  }
  if (e.type !== WIN_CERT.TYPE_PKCS_SIGNED_DATA) {
    fail(
      AUTHENTICODE_ERROR.BAD_WIN_CERTIFICATE,
      `WIN_CERTIFICATE ${e.index}: type ${e.type} is not PKCS_SIGNED_DATA`,
      e.offset,
    );
  }
  const at = e.offset + WIN_CERT.HEADER_SIZE;
  if (e.data[0] !== TAG.SEQUENCE)
    fail(AUTHENTICODE_ERROR.BAD_PKCS7, `WIN_CERTIFICATE ${e.index}: data is not an ASN.1 SEQUENCE`, at);
  const lengthOctets = (e.data[1] ?? 0) > 0x80 ? e.data[1]! & 0x7f : 0;
  if (mode === 'kernel' && lengthOctets > KERNEL_MAX_LENGTH_OCTETS) {
    fail(
      AUTHENTICODE_ERROR.BAD_PKCS7,
      `WIN_CERTIFICATE ${e.index}: a PKCS#7 of 64 KiB or more is refused by the kernel (-EMSGSIZE)`,
      at,
    );
  }
  // Only the DER element counts; bytes after it inside the entry are ignored (as the kernel does).
  return readTlv(e.data, 0, e.data.length, at);
};

interface SignerInfo {
  readonly node: Tlv;
  readonly sid: Tlv;
  readonly digestAlgorithm: string | undefined;
  /** The [0] IMPLICIT signed attributes, when present. */
  readonly signedAttrs: Tlv | undefined;
  readonly signatureAlgorithm: string | undefined;
  readonly signature: Uint8Array;
}

interface Parsed {
  /** SpcIndirectDataContent SEQUENCE. */
  readonly content: Tlv;
  readonly certificates: Certificate[];
  readonly signerInfo: SignerInfo;
}

const algorithmOf = (t: Tlv | undefined): string | undefined =>
  t?.tag === TAG.SEQUENCE ? oidOf(childrenOf(t)[0]) : undefined;

const readSignerInfo = (t: Tlv): SignerInfo => {
  const f = childrenOf(expectTag(t, TAG.SEQUENCE, 'SignerInfo', t.offset));
  // version, sid, digestAlgorithm, [0] signedAttrs?, signatureAlgorithm, signature, [1] unsignedAttrs?
  const hasAttrs = f[3]?.tag === TAG.context(0);
  const sig = expectTag(f[hasAttrs ? 5 : 4], TAG.OCTET_STRING, 'SignerInfo signature', t.offset);
  return {
    node: t,
    // IssuerAndSerialNumber, or [0] IMPLICIT SubjectKeyIdentifier (a primitive OCTET STRING).
    sid: expectTag(
      f[1],
      f[1]?.tag === TAG.contextPrimitive(0) ? TAG.contextPrimitive(0) : TAG.SEQUENCE,
      'SignerInfo sid',
      t.offset,
    ),
    digestAlgorithm: algorithmOf(f[2]),
    signedAttrs: hasAttrs ? f[3] : undefined,
    signatureAlgorithm: algorithmOf(f[hasAttrs ? 4 : 3]),
    signature: sig.contents,
  };
};

const parseSignedData = (ci: Tlv): Parsed => {
  const [type, explicit] = childrenOf(expectTag(ci, TAG.SEQUENCE, 'ContentInfo', ci.offset));
  const contentType = oidOf(type);
  if (contentType !== OID.SIGNED_DATA)
    fail(AUTHENTICODE_ERROR.BAD_PKCS7, `content type ${contentType ?? '(none)'} is not signedData`, ci.offset);
  const sd = childrenOf(
    expectTag(
      childrenOf(expectTag(explicit, TAG.context(0), 'ContentInfo content', ci.offset))[0],
      TAG.SEQUENCE,
      'SignedData',
      ci.offset,
    ),
  );
  // version, digestAlgorithms, encapContentInfo, [0] certificates?, [1] crls?, signerInfos
  const encap = childrenOf(expectTag(sd[2], TAG.SEQUENCE, 'EncapsulatedContentInfo', ci.offset));
  const eContentType = oidOf(encap[0]);
  if (eContentType !== OID.SPC_INDIRECT_DATA) {
    fail(
      AUTHENTICODE_ERROR.NOT_AUTHENTICODE,
      `content type ${eContentType ?? '(none)'} is not SPC_INDIRECT_DATA`,
      encap[0]?.offset ?? ci.offset,
    );
  }
  const eContent = encap[1]?.tag === TAG.context(0) ? childrenOf(encap[1])[0] : undefined;
  if (!eContent) return fail(AUTHENTICODE_ERROR.NOT_AUTHENTICODE, 'SignedData carries no content', sd[2]!.offset);
  const rest = sd.slice(3);
  const certSet = rest.find((t) => t.tag === TAG.context(0));
  const signerInfos = childrenOf(expectTag(rest.at(-1), TAG.SET, 'SignerInfos', ci.offset));
  if (signerInfos.length !== 1) {
    fail(
      AUTHENTICODE_ERROR.BAD_PKCS7,
      `${signerInfos.length} SignerInfos; Authenticode has exactly one`,
      rest.at(-1)!.offset,
    );
  }
  const certificates: Certificate[] = [];
  for (const c of certSet ? childrenOf(certSet) : []) {
    // Other CertificateChoices ([0]..[3]) are not X.509 certificates; skip them.
    if (c.tag !== TAG.SEQUENCE) continue;
    try {
      certificates.push(parseCertificate(c.raw, 'embedded certificate'));
    } catch (e) {
      if (!(e instanceof AuthenticodeError)) throw e;
      fail(AUTHENTICODE_ERROR.BAD_PKCS7, e.message, c.offset);
    }
  }
  return { content: eContent, certificates, signerInfo: readSignerInfo(signerInfos[0]!) };
};

const findSigner = (si: SignerInfo, certs: readonly Certificate[]): Certificate | undefined => {
  if (si.sid.tag === TAG.SEQUENCE) {
    const [issuer, serial] = childrenOf(si.sid);
    if (!issuer || !serial) return undefined;
    return certs.find((c) => bytesEqual(c.raw.issuer, issuer.raw) && bytesEqual(c.raw.serial, serial.raw));
  }
  // [0] SubjectKeyIdentifier
  return certs.find(
    (c) => c.raw.subjectKeyIdentifier !== undefined && bytesEqual(c.raw.subjectKeyIdentifier, si.sid.contents),
  );
};

/** The single value of the single signed attribute of that type, or undefined. */
const attributeValue = (si: SignerInfo, type: string): Tlv | undefined => {
  if (!si.signedAttrs) return undefined;
  const matches = childrenOf(si.signedAttrs)
    .map((a) => childrenOf(expectTag(a, TAG.SEQUENCE, 'Attribute', a.offset)))
    .filter(([t]) => oidOf(t) === type);
  const values = matches.length === 1 && matches[0]![1]?.tag === TAG.SET ? childrenOf(matches[0]![1]) : [];
  return values.length === 1 ? values[0] : undefined;
};

/** The trusted certificate the signer chains to, if any. */
const chainToTrusted = (
  signer: Certificate,
  carried: readonly Certificate[],
  trusted: readonly Certificate[],
): Certificate | undefined => {
  let cur = signer;
  const seen = new Set<Certificate>([signer]);
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    const anchor = trusted.find((t) => sameCertificate(t, cur)) ?? trusted.find((t) => issuedBy(cur, t));
    if (anchor) return anchor;
    const next = carried.find((c) => !seen.has(c) && issuedBy(cur, c));
    if (!next) return undefined;
    seen.add(next);
    cur = next;
  }
  return undefined;
};

interface Learned {
  digestAlgorithm?: DigestAlgorithm;
  imageDigest?: string;
  signer?: CertificateSummary;
}

/**
 * Checks one entry's digests and signature (trust is decided after, so that a sound but untrusted signature
 * is reported as such); throws AuthenticodeError for the first failed check, fills `out` as it learns.
 */
const checkEntry = (
  img: PeImage,
  e: WinCertificate,
  mode: VerifyMode,
  out: Learned,
  digests: Map<DigestAlgorithm, Uint8Array>,
): { signer: Certificate; carried: Certificate[] } => {
  const { content, certificates, signerInfo } = parseSignedData(unwrap(e, mode));
  const spc = decodeSpcIndirectData(content);
  out.digestAlgorithm = spc.digestAlgorithm;
  out.imageDigest = toHex(spc.digest);
  let actual = digests.get(spc.digestAlgorithm);
  if (!actual) {
    actual = imageDigest(img, spc.digestAlgorithm);
    digests.set(spc.digestAlgorithm, actual);
  }
  if (!bytesEqual(actual, spc.digest)) {
    fail(
      AUTHENTICODE_ERROR.IMAGE_DIGEST_MISMATCH,
      `signature ${e.index}: image ${spc.digestAlgorithm} digest ${toHex(actual)} differs from the signed ${toHex(spc.digest)}`,
      e.offset,
    );
  }
  const si = signerInfo;
  const alg = si.digestAlgorithm ? digestByOid(si.digestAlgorithm) : undefined;
  if (!alg)
    fail(
      AUTHENTICODE_ERROR.UNSUPPORTED_ALGORITHM,
      `SignerInfo digest ${si.digestAlgorithm ?? '(none)'} is not supported`,
      si.node.offset,
    );
  const digestAlg = alg as DigestAlgorithm;
  // Without signed attributes the signature covers the content octets directly.
  let signed = content.contents;
  if (si.signedAttrs) {
    const contentType = oidOf(attributeValue(si, OID.CONTENT_TYPE));
    if (contentType !== OID.SPC_INDIRECT_DATA) {
      fail(
        AUTHENTICODE_ERROR.NOT_AUTHENTICODE,
        `contentType attribute ${contentType ?? '(missing)'} is not SPC_INDIRECT_DATA`,
        e.offset,
      );
    }
    const md = attributeValue(si, OID.MESSAGE_DIGEST);
    // messageDigest covers the SpcIndirectDataContent's content octets, not its tag and length.
    const expected = new Uint8Array(createHash(digestAlg).update(content.contents).digest());
    if (md?.tag !== TAG.OCTET_STRING || !bytesEqual(md.contents, expected)) {
      fail(
        AUTHENTICODE_ERROR.MESSAGE_DIGEST_MISMATCH,
        `signature ${e.index}: messageDigest attribute does not match the content`,
        e.offset,
      );
    }
    // The signature covers the attributes re-tagged as a SET OF (0x31) instead of [0] IMPLICIT.
    signed = si.signedAttrs.raw.slice();
    signed[0] = TAG.SET;
  }
  const signer = findSigner(si, certificates);
  if (!signer)
    return fail(
      AUTHENTICODE_ERROR.SIGNER_NOT_FOUND,
      `signature ${e.index}: the signer's certificate is not in the SignedData`,
      e.offset,
    );
  out.signer = summary(signer);
  const sigAlg = si.signatureAlgorithm ? SIGNATURE_OIDS[si.signatureAlgorithm] : undefined;
  if (!sigAlg || sigAlg.key !== signer.keyType) {
    fail(
      AUTHENTICODE_ERROR.UNSUPPORTED_ALGORITHM,
      `signature algorithm ${si.signatureAlgorithm ?? '(none)'} does not fit the signer's ${signer.keyType} key`,
      si.node.offset,
    );
  }
  if (!verifyWith(signer.raw.subjectPublicKeyInfo, signer.keyType, digestAlg, signed, si.signature)) {
    fail(
      AUTHENTICODE_ERROR.BAD_SIGNATURE,
      `signature ${e.index}: the signature does not verify with ${signer.subject}'s key`,
      e.offset,
    );
  }
  return { signer, carried: certificates };
};

const report = (
  img: PeImage,
  e: WinCertificate,
  mode: VerifyMode,
  trusted: readonly Certificate[],
  digests: Map<DigestAlgorithm, Uint8Array>,
): SignatureReport => {
  const partial: Learned = {};
  const base = { index: e.index, offset: e.offset };
  try {
    const { signer, carried } = checkEntry(img, e, mode, partial, digests);
    const anchor = chainToTrusted(signer, carried, trusted);
    return {
      ...base,
      ok: anchor !== undefined,
      sound: true,
      failure: anchor
        ? undefined
        : {
            code: AUTHENTICODE_ERROR.UNTRUSTED,
            message: `signature ${e.index}: signer ${signer.subject} does not chain to a trusted certificate`,
          },
      digestAlgorithm: partial.digestAlgorithm,
      imageDigest: partial.imageDigest,
      signer: partial.signer,
      trustedBy: anchor ? summary(anchor) : undefined,
    };
  } catch (err) {
    if (!(err instanceof AuthenticodeError)) throw err;
    return {
      ...base,
      ok: false,
      sound: false,
      failure: { code: err.code, message: err.message },
      digestAlgorithm: partial.digestAlgorithm,
      imageDigest: partial.imageDigest,
      signer: partial.signer,
      trustedBy: undefined,
    };
  }
};

/**
 * Verifies the signatures of a PE image against trusted certificates. Throws PeError when the file is not
 * a well-formed PE; every signature problem is reported in the result instead.
 */
export const verifyImage = (
  bytes: Uint8Array | PeImage,
  trusted: readonly Certificate[],
  options: { mode?: VerifyMode } = {},
): VerifyResult => {
  const mode = options.mode ?? 'kernel';
  const img = bytes instanceof Uint8Array ? readPe(bytes) : bytes;
  const table = readCertificateTable(img);
  const digests = new Map<DigestAlgorithm, Uint8Array>();
  const reject = (code: AuthenticodeErrorCode, message: string, signatures: SignatureReport[] = []): VerifyResult => ({
    ok: false,
    mode,
    signatures,
    failure: { code, message },
  });
  if (!img.certificateTable)
    return reject(AUTHENTICODE_ERROR.UNSIGNED, 'the image has no certificate table (unsigned)');
  if (mode === 'kernel') {
    const first = table.entries[0];
    if (!first)
      return reject(AUTHENTICODE_ERROR.BAD_WIN_CERTIFICATE, table.error?.message ?? 'empty certificate table');
    const r = report(img, first, mode, trusted, digests);
    return { ok: r.ok, mode, signatures: [r], failure: undefined };
  }
  const signatures = table.entries.map((e) => report(img, e, mode, trusted, digests));
  const last = table.entries[table.entries.length - 1];
  const walked = last
    ? last.offset + Math.ceil(last.length / WIN_CERT.ALIGN) * WIN_CERT.ALIGN
    : img.certificateTable.offset;
  if (table.error || walked !== img.certificateTable.offset + img.certificateTable.size) {
    return reject(
      AUTHENTICODE_ERROR.BAD_WIN_CERTIFICATE,
      table.error?.message ?? 'the certificate table does not end where its last (8-byte padded) entry does',
      signatures,
    );
  }
  return { ok: signatures.some((s) => s.ok), mode, signatures, failure: undefined };
};

/** Every signature's report without trust anchors (for listing): `sound` tells whether each checks out. */
export const listSignatures = (bytes: Uint8Array | PeImage): readonly SignatureReport[] =>
  verifyImage(bytes, [], { mode: 'edk2' }).signatures;
