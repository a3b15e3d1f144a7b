/**
 * The architecture side of kexec_file_load: the image probe of each architecture's loaders (x86_64
 * `kexec_bzImage64_ops`, arm64 `kexec_image_ops`) and the segments its load handler would place.
 * Probe errnos are the kernel's: bzImage64_probe answers -ENOEXEC, arm64's image_probe -EINVAL.
 * Placement (addresses) is illustrative: segments are laid out upwards from a fixed base with the
 * image's alignment; the purgatory and the arm64 device tree are not built (the command line is a
 * segment of its own there, standing for /chosen/bootargs).
 */
import { E } from '../../bpf/abi/index.ts';
import {
  isArm64Image,
  isBzImageFile,
  KernelImageError,
  parseArm64Image,
  parseBzImage,
} from '../../formats/kernel/index.ts';
import type { Printk } from './klog.ts';

export const ARCHES = ['x86_64', 'arm64'] as const;
export type Arch = (typeof ARCHES)[number];

export interface SegmentPlan {
  readonly name: 'setup' | 'kernel' | 'initrd' | 'cmdline';
  readonly buf: Uint8Array;
  /** Memory size (≥ buf length: BSS, init_size). */
  readonly memsz: number;
  readonly align: number;
}

export type ProbeResult =
  | { readonly errno: number }
  | {
      readonly errno: 0;
      readonly loader: string;
      readonly plan: (initrd?: Uint8Array, cmdline?: Uint8Array) => SegmentPlan[] | number;
    };

const MiB = 1 << 20;

const probeX86 = (k: Uint8Array, err: Printk): ProbeResult => {
  const no = (why: string): ProbeResult => {
    err('err', why);
    return { errno: -E.ENOEXEC };
  };
  if (k.length < 2 * 512) return no('File is too short to be a bzImage');
  if (!isBzImageFile(k)) return no('Not a bzImage');
  let bz: ReturnType<typeof parseBzImage>;
  try {
    bz = parseBzImage(k);
  } catch (e) {
    if (e instanceof KernelImageError) return no(`Not a bzImage: ${e.message}`);
    throw e;
  }
  if (bz.version < 0x020c) return no('Must be at least protocol version 2.12');
  if (!bz.isBzImage) return no('zImage not a bzImage');
  if (!bz.kexec64) return no('Not a bzImage64. XLF_KERNEL_64 is not set.');
  return {
    errno: 0,
    loader: 'kexec-bzImage64',
    plan: (initrd, cmdline) => {
      if (cmdline && cmdline.length > bz.cmdlineSize) {
        err('err', 'Kernel command line too long');
        return -E.EINVAL;
      }
      const align = Math.max(bz.kernelAlignment, 4096);
      const kernel = k.subarray(bz.protectedModeOffset);
      return [
        { name: 'setup', buf: k.subarray(0, bz.protectedModeOffset), memsz: bz.protectedModeOffset, align: 4096 },
        ...(cmdline ? [{ name: 'cmdline' as const, buf: cmdline, memsz: cmdline.length, align: 16 }] : []),
        { name: 'kernel', buf: kernel, memsz: Math.max(kernel.length, bz.initSize), align },
        ...(initrd ? [{ name: 'initrd' as const, buf: initrd, memsz: initrd.length, align: 4096 }] : []),
      ];
    },
  };
};

const probeArm64 = (k: Uint8Array): ProbeResult => {
  if (k.length < 64 || !isArm64Image(k)) return { errno: -E.EINVAL };
  const img = parseArm64Image(k);
  return {
    errno: 0,
    loader: 'kexec_image',
    plan: (initrd, cmdline) => [
      {
        name: 'kernel',
        buf: k,
        memsz: Math.max(k.length, Number(img.imageSize)),
        align: 2 * MiB,
      },
      ...(initrd ? [{ name: 'initrd' as const, buf: initrd, memsz: initrd.length, align: 4096 }] : []),
      ...(cmdline ? [{ name: 'cmdline' as const, buf: cmdline, memsz: cmdline.length, align: 8 }] : []),
    ],
  };
};

/** arch_kexec_kernel_image_probe(). */
export const probeImage = (arch: Arch, kernel: Uint8Array, log: (prefix: string) => Printk): ProbeResult =>
  arch === 'x86_64' ? probeX86(kernel, log('kexec-bzImage64')) : probeArm64(kernel);

/** Where segments start (x86: 16 MiB; arm64: 2 GiB, DRAM's usual base on virt). */
export const SEGMENT_BASE: Readonly<Record<Arch, number>> = { x86_64: 16 * MiB, arm64: 0x8000_0000 };
