/**
 * kimage_validate_signature(): what the kernel does with the verdict on the image it was given.
 * - 'off' (no CONFIG_KEXEC_SIG): nothing is checked;
 * - 'kexec_sig' (CONFIG_KEXEC_SIG): verified; a failure is logged at debug level and the load goes on,
 *   unless the kernel is locked down (then -EPERM, as `security_locked_down(LOCKDOWN_KEXEC)` decides);
 * - 'kexec_sig_force' (CONFIG_KEXEC_SIG_FORCE or `module.sig_enforce`-style enforcement): a failure ends
 *   the load with the verifier's errno (-ENODATA unsigned, -EKEYREJECTED bad signature, -ENOKEY untrusted,
 *   -EBADMSG malformed PKCS#7, -ELIBBAD malformed PE, -ENOTSUPP wrong WIN_CERTIFICATE revision/type).
 * IMA appraisal (which lets a locked-down kernel accept an unsigned image) is not modelled.
 */
import { E } from '../../bpf/abi/index.ts';
import { type Keyrings, type SignatureVerdict, verifyPeSignature } from './keyring.ts';
import type { Printk } from './klog.ts';

export const SIG_POLICIES = ['off', 'kexec_sig', 'kexec_sig_force'] as const;
export type SigPolicy = (typeof SIG_POLICIES)[number];

export interface SignatureOutcome {
  /** 0 to go on, else -errno for kexec_file_load. */
  readonly errno: number;
  /** The verification verdict (undefined when the policy is 'off'). */
  readonly verdict: SignatureVerdict | undefined;
}

export const validateSignature = (
  bytes: Uint8Array,
  policy: SigPolicy,
  lockdown: boolean,
  keys: Keyrings,
  pefile: Printk,
  kexec: Printk,
): SignatureOutcome => {
  if (policy === 'off') return { errno: 0, verdict: undefined };
  const verdict = verifyPeSignature(bytes, keys);
  if (verdict.errno === 0) {
    kexec('debug', `kernel signature verified (${verdict.keyring} keyring)`);
    return { errno: 0, verdict };
  }
  pefile('warning', verdict.reason);
  if (policy === 'kexec_sig_force') {
    kexec('notice', `Enforced kernel signature verification failed (${verdict.errno}).`);
    return { errno: verdict.errno, verdict };
  }
  if (lockdown) {
    kexec('notice', `kernel signature verification failed (${verdict.errno}); the kernel is locked down`);
    return { errno: -E.EPERM, verdict };
  }
  kexec('debug', `kernel signature verification failed (${verdict.errno}).`);
  return { errno: 0, verdict };
};
