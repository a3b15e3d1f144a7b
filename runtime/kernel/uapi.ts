/** kexec_file_load(2)'s flags (include/uapi/linux/kexec.h) and the argument shapes of the model's syscalls. */

export const KEXEC_FILE = {
  UNLOAD: 0x1,
  ON_CRASH: 0x2,
  NO_INITRAMFS: 0x4,
  DEBUG: 0x8,
  NO_CMA: 0x10,
} as const;

/** BPF_PROG_LOAD's prog_flags bit for a sleepable program (include/uapi/linux/bpf.h). */
export const BPF_F_SLEEPABLE = 1 << 4;

/** KEXEC_FILE_FLAGS: every flag the syscall accepts; any other bit is -EINVAL. */
export const KEXEC_FILE_FLAGS = Object.values(KEXEC_FILE).reduce((a, b) => a | b, 0);

export interface KexecFileLoadArgs {
  readonly kernelFd: number;
  /** Ignored with KEXEC_FILE_NO_INITRAMFS (pass -1). */
  readonly initrdFd: number;
  /**
   * The command line: bytes are passed as is (cmdline_len = their length; the last must be NUL, else
   * -EINVAL as in the kernel); a string gets its NUL appended; absent or empty means cmdline_len 0.
   */
  readonly cmdline?: Uint8Array | string;
  readonly flags: number;
}

export interface LoaderRegistration {
  /** eventfd the kernel signals when a `.bpf` section is exposed; -1 unregisters. */
  readonly eventA: number;
  /** eventfd the loader signals once the program is attached. */
  readonly eventB: number;
  /** Addon files by name (the names the loader writes to the addon-name map), as fds the kernel reads now. */
  readonly addons?: readonly { readonly name: string; readonly fd: number }[];
}
