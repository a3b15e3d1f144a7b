/** Authenticode: the PE image hash, signing (PKCS#7 SignedData over SpcIndirectDataContent) and verification. */
export {
  type Certificate,
  type CertificateSummary,
  issuedBy,
  keyMatchesCertificate,
  loadCertificates,
  loadPrivateKey,
  parseCertificate,
} from './certs.ts';
export { type HashRange, hashedRanges, imageDigest, isHashed } from './digest.ts';
export { AUTHENTICODE_ERROR, AuthenticodeError, type AuthenticodeErrorCode } from './errors.ts';
export { DIGEST_OIDS, type DigestAlgorithm, OID } from './oids.ts';
export { buildSignedData, type Signer, type SignOptions, signImage } from './sign.ts';
export { decodeSpcIndirectData, encodeSpcIndirectData, type SpcIndirectData } from './spc.ts';
export {
  type Failure,
  listSignatures,
  type SignatureReport,
  type VerifyMode,
  type VerifyResult,
  verifyImage,
} from './verify.ts';
