/** Typed errors of Authenticode hashing, signing and verification. */

export const AUTHENTICODE_ERROR = {
  /** The image's layout makes the Authenticode hash undefined (sections and certificate table overlap the hashed range). */
  HASH_LAYOUT: 'HASH_LAYOUT',
  UNSIGNED: 'UNSIGNED',
  BAD_WIN_CERTIFICATE: 'BAD_WIN_CERTIFICATE',
  /** The entry is not a DER PKCS#7 SignedData (or does not parse as one). */
  BAD_PKCS7: 'BAD_PKCS7',
  /** The SignedData's content is not SpcIndirectDataContent with SPC_PE_IMAGE_DATA. */
  NOT_AUTHENTICODE: 'NOT_AUTHENTICODE',
  UNSUPPORTED_ALGORITHM: 'UNSUPPORTED_ALGORITHM',
  /** The digest in SpcIndirectDataContent differs from the image's hash. */
  IMAGE_DIGEST_MISMATCH: 'IMAGE_DIGEST_MISMATCH',
  /** The messageDigest attribute differs from the hash of the SpcIndirectDataContent. */
  MESSAGE_DIGEST_MISMATCH: 'MESSAGE_DIGEST_MISMATCH',
  SIGNER_NOT_FOUND: 'SIGNER_NOT_FOUND',
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  /** The signature is sound but its signer does not chain to any trusted certificate. */
  UNTRUSTED: 'UNTRUSTED',
  BAD_KEY: 'BAD_KEY',
  BAD_CERTIFICATE: 'BAD_CERTIFICATE',
  KEY_CERT_MISMATCH: 'KEY_CERT_MISMATCH',
} as const;
export type AuthenticodeErrorCode = (typeof AUTHENTICODE_ERROR)[keyof typeof AUTHENTICODE_ERROR];

export class AuthenticodeError extends Error {
  override readonly name = 'AuthenticodeError';
  readonly code: AuthenticodeErrorCode;
  /** File offset concerned (of the WIN_CERTIFICATE entry, or of the field), when there is one. */
  readonly offset: number | undefined;
  constructor(code: AuthenticodeErrorCode, message: string, offset?: number, options?: { cause?: unknown }) {
    super(
      `Authenticode: ${message}${offset === undefined ? '' : ` (at file offset 0x${offset.toString(16)})`}`,
      options,
    );
    this.code = code;
    this.offset = offset;
  }
}
