/**
 * The kernel's log: runtime/helpers' KernelLog (dmesg format) with the pr_fmt prefixes of the kernel
 * files whose messages we model (`kexec_file: `, `PEFILE: `, `kexec-bzImage64: `, …).
 */
import { KernelLog, type LogLevel } from '../helpers/index.ts';

export type Printk = (level: LogLevel, text: string) => void;

/** printk bound to a pr_fmt prefix, e.g. `prefixed(log, 'kexec_file')`. */
export const prefixed =
  (log: KernelLog, prefix: string): Printk =>
  (level, text) =>
    log.log(level, `${prefix}: ${text}`);

export { KernelLog };
