/**
 * Signature checks of addons for bpf_helper_supplement_initrd: Authenticode over the addon PE against a
 * keyring (formats/authenticode, the kernel's verify_pefile_signature semantics: first signature only),
 * with each failure mapped to the errno the kernel's PKCS#7 code returns for it.
 */
import { E } from '../../bpf/abi/index.ts';
import {
  AUTHENTICODE_ERROR,
  AuthenticodeError,
  type AuthenticodeErrorCode,
  type Certificate,
  verifyImage,
} from '../../formats/authenticode/index.ts';

/** 0 when the addon may be used, else -errno. `name` is for messages. */
export type AddonVerifier = (bytes: Uint8Array, name: string) => AddonVerdict;
export interface AddonVerdict {
  /** 0 or -errno */
  readonly errno: number;
  readonly reason: string;
}

/** errno per Authenticode failure (crypto/asymmetric_keys: pkcs7_verify.c, pkcs7_trust.c, verify_pefile.c). */
export const AUTHENTICODE_ERRNO: Readonly<Record<AuthenticodeErrorCode, number>> = {
  // verify_pefile: no certificate table is -ENODATA ("Unsigned PE binary")
  [AUTHENTICODE_ERROR.UNSIGNED]: E.ENODATA,
  // malformed wrappers / PKCS#7 / layouts: the ABI's "malformed signature"
  [AUTHENTICODE_ERROR.HASH_LAYOUT]: E.EBADMSG,
  [AUTHENTICODE_ERROR.BAD_WIN_CERTIFICATE]: E.EBADMSG,
  [AUTHENTICODE_ERROR.BAD_PKCS7]: E.EBADMSG,
  [AUTHENTICODE_ERROR.NOT_AUTHENTICODE]: E.EBADMSG,
  [AUTHENTICODE_ERROR.BAD_CERTIFICATE]: E.EBADMSG,
  [AUTHENTICODE_ERROR.BAD_KEY]: E.EBADMSG,
  // digests or signature that do not check out
  [AUTHENTICODE_ERROR.IMAGE_DIGEST_MISMATCH]: E.EKEYREJECTED,
  [AUTHENTICODE_ERROR.MESSAGE_DIGEST_MISMATCH]: E.EKEYREJECTED,
  [AUTHENTICODE_ERROR.BAD_SIGNATURE]: E.EKEYREJECTED,
  [AUTHENTICODE_ERROR.KEY_CERT_MISMATCH]: E.EKEYREJECTED,
  [AUTHENTICODE_ERROR.UNSUPPORTED_ALGORITHM]: E.EKEYREJECTED,
  // sound but not chained to a trusted key
  [AUTHENTICODE_ERROR.SIGNER_NOT_FOUND]: E.ENOKEY,
  [AUTHENTICODE_ERROR.UNTRUSTED]: E.ENOKEY,
};

/** A verifier over trusted certificates (the kernel's builtin/secondary/platform keyrings, flattened). */
export const authenticodeVerifier =
  (keyring: readonly Certificate[]): AddonVerifier =>
  (bytes) => {
    try {
      const r = verifyImage(bytes, keyring, { mode: 'kernel' });
      if (r.ok) return { errno: 0, reason: 'signature verified' };
      const failure = r.failure ?? r.signatures[0]?.failure;
      if (failure === undefined) return { errno: -E.EKEYREJECTED, reason: 'signature rejected' };
      return { errno: -AUTHENTICODE_ERRNO[failure.code], reason: failure.message };
    } catch (e) {
      // not a PE at all (PeError) or an undecodable signature: malformed
      if (e instanceof Error) {
        const errno = e instanceof AuthenticodeError ? AUTHENTICODE_ERRNO[e.code] : E.EBADMSG;
        return { errno: -errno, reason: e.message };
      }
      throw e;
    }
  };
