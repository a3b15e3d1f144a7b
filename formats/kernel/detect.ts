/** What kind of kernel image a file is, from its magics alone. */
import { isArm64Image } from './arm64.ts';
import { isBzImageFile } from './bzimage.ts';
import { isElf } from './elf.ts';
import { isZboot } from './zboot.ts';

export type KernelImageKind = 'zboot' | 'bzImage' | 'arm64-image' | 'riscv-image' | 'elf' | 'unknown';

/** RISC-V Image magic "RSC\x05" at 0x38. */
const isRiscvImage = (b: Uint8Array): boolean =>
  b.length >= 0x40 && b[0x38] === 0x52 && b[0x39] === 0x53 && b[0x3a] === 0x43 && b[0x3b] === 0x05;

export const detectKernelImage = (b: Uint8Array): KernelImageKind => {
  if (isZboot(b)) return 'zboot';
  if (isBzImageFile(b)) return 'bzImage';
  if (isArm64Image(b)) return 'arm64-image';
  if (isRiscvImage(b)) return 'riscv-image';
  if (isElf(b)) return 'elf';
  return 'unknown';
};
