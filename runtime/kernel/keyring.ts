/**
 * The kernel's trusted keys for kexec: the builtin, secondary and platform keyrings, loaded from
 * certificate files (PEM or DER, one or more certificates each), and `verifyPeSignature`, which checks
 * a PE image as `kexec_kernel_verify_pe_sig()` does: `verify_pefile_signature()` against the secondary
 * keyring (which links the builtin one), and on -ENOKEY again against the platform keyring.
 */
import { readFileSync } from 'node:fs';
import { E, E as KERNEL_ERRNO } from '../../bpf/abi/index.ts';
import {
  AUTHENTICODE_ERROR,
  type AuthenticodeErrorCode,
  type Certificate,
  loadCertificates,
  verifyImage,
} from '../../formats/authenticode/index.ts';
import { PeError, readCertificateTable, readPe, WIN_CERT } from '../../formats/pe/index.ts';

export const KEYRING_NAMES = ['builtin', 'secondary', 'platform'] as const;
export type KeyringName = (typeof KEYRING_NAMES)[number];

/** Certificate files per keyring (paths). */
export type KeyringFiles = Partial<Record<KeyringName, readonly string[]>>;

export class Keyrings {
  readonly builtin: readonly Certificate[];
  readonly secondary: readonly Certificate[];
  readonly platform: readonly Certificate[];

  constructor(certs: Partial<Record<KeyringName, readonly Certificate[]>> = {}) {
    this.builtin = certs.builtin ?? [];
    this.secondary = certs.secondary ?? [];
    this.platform = certs.platform ?? [];
  }

  /** Reads every file (throws AuthenticodeError naming the file for one that holds no certificate). */
  static fromFiles(files: KeyringFiles): Keyrings {
    const load = (paths: readonly string[] = []) => paths.flatMap((p) => loadCertificates(readFileSync(p), p));
    return new Keyrings({
      builtin: load(files.builtin),
      secondary: load(files.secondary),
      platform: load(files.platform),
    });
  }

  /** VERIFY_USE_SECONDARY_KEYRING: the secondary keyring and the builtin one it links to. */
  get secondaryChain(): readonly Certificate[] {
    return [...this.builtin, ...this.secondary];
  }

  /** Every trusted certificate (what addon checks use). */
  get all(): readonly Certificate[] {
    return [...this.builtin, ...this.secondary, ...this.platform];
  }
}

export interface SignatureVerdict {
  /** 0 or -errno as verify_pefile_signature returns it. */
  readonly errno: number;
  /** The keyring that trusted the signer, when errno is 0. */
  readonly keyring: 'secondary' | 'platform' | undefined;
  /** Why (the PEFILE:/PKCS7: message the kernel would print, in our words). */
  readonly reason: string;
}

const ENOTSUPP = 524;

/** errno of each Authenticode failure, as crypto/asymmetric_keys (verify_pefile.c, pkcs7_*.c, mscode) return it. */
const ERRNO_OF: Readonly<Record<AuthenticodeErrorCode, number>> = {
  [AUTHENTICODE_ERROR.UNSIGNED]: E.ENODATA, // "Unsigned PE binary"
  [AUTHENTICODE_ERROR.HASH_LAYOUT]: KERNEL_ERRNO.ELIBBAD, // chkaddr() on the image layout
  [AUTHENTICODE_ERROR.BAD_WIN_CERTIFICATE]: KERNEL_ERRNO.ELIBBAD, // wrapper length; revision/type: see below
  [AUTHENTICODE_ERROR.BAD_PKCS7]: E.EBADMSG, // the ASN.1 decoder
  [AUTHENTICODE_ERROR.NOT_AUTHENTICODE]: E.EBADMSG, // mscode_note_content_type
  [AUTHENTICODE_ERROR.BAD_CERTIFICATE]: E.EBADMSG, // x509_cert_parse inside the PKCS#7
  [AUTHENTICODE_ERROR.BAD_KEY]: E.EBADMSG,
  [AUTHENTICODE_ERROR.UNSUPPORTED_ALGORITHM]: KERNEL_ERRNO.ENOPKG,
  [AUTHENTICODE_ERROR.IMAGE_DIGEST_MISMATCH]: E.EKEYREJECTED, // pefile_digest_pe "Digest mismatch"
  [AUTHENTICODE_ERROR.MESSAGE_DIGEST_MISMATCH]: E.EKEYREJECTED, // pkcs7_digest
  [AUTHENTICODE_ERROR.BAD_SIGNATURE]: E.EKEYREJECTED, // public_key_verify_signature
  [AUTHENTICODE_ERROR.KEY_CERT_MISMATCH]: E.EKEYREJECTED,
  [AUTHENTICODE_ERROR.SIGNER_NOT_FOUND]: E.ENOKEY, // pkcs7_validate_trust finds no trusted key
  [AUTHENTICODE_ERROR.UNTRUSTED]: E.ENOKEY,
};

/** pefile_strip_sig_wrapper: a wrong revision or certificate type is -ENOTSUPP, a wrong length -ELIBBAD. */
const wrapperErrno = (bytes: Uint8Array): number => {
  const first = readCertificateTable(readPe(bytes)).entries[0];
  if (first && (first.revision !== WIN_CERT.REVISION_2_0 || first.type !== WIN_CERT.TYPE_PKCS_SIGNED_DATA))
    return ENOTSUPP;
  return KERNEL_ERRNO.ELIBBAD;
};

const verifyAgainst = (bytes: Uint8Array, trusted: readonly Certificate[]): { errno: number; reason: string } => {
  try {
    const r = verifyImage(bytes, trusted, { mode: 'kernel' });
    if (r.ok) return { errno: 0, reason: 'signature verified' };
    const failure = r.failure ?? r.signatures[0]?.failure;
    if (failure === undefined) return { errno: -E.EKEYREJECTED, reason: 'signature rejected' };
    const errno =
      failure.code === AUTHENTICODE_ERROR.BAD_WIN_CERTIFICATE ? wrapperErrno(bytes) : ERRNO_OF[failure.code];
    return { errno: -errno, reason: failure.message };
  } catch (e) {
    if (e instanceof PeError) return { errno: -KERNEL_ERRNO.ELIBBAD, reason: `not a PE image: ${e.message}` };
    if (e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code in ERRNO_OF)
      return { errno: -ERRNO_OF[e.code as AuthenticodeErrorCode], reason: e.message };
    throw e;
  }
};

/** kexec_kernel_verify_pe_sig(): secondary (+builtin) first, the platform keyring when that gives -ENOKEY. */
export const verifyPeSignature = (bytes: Uint8Array, keys: Keyrings): SignatureVerdict => {
  const first = verifyAgainst(bytes, keys.secondaryChain);
  if (first.errno === 0) return { ...first, keyring: 'secondary' };
  if (first.errno !== -E.ENOKEY) return { ...first, keyring: undefined };
  const second = verifyAgainst(bytes, keys.platform);
  return { ...second, keyring: second.errno === 0 ? 'platform' : undefined };
};
