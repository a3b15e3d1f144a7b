/** Kernel image headers: EFI zboot (parse and build), x86 bzImage setup header, arm64 Image, ELF vmlinux. */
export { ARM64_IMAGE, ARM64_PAGE_SIZES, type Arm64Image, isArm64Image, parseArm64Image } from './arm64.ts';
export {
  BOOT_FLAG,
  type BzImage,
  HDRS_MAGIC,
  isBzImageFile,
  LOADFLAGS,
  parseBzImage,
  SETUP_HEADER,
  XLOADFLAGS,
} from './bzimage.ts';
export { detectKernelImage, type KernelImageKind } from './detect.ts';
export { ELF_MACHINES, ELF_MAGIC, type ElfIdent, isElf, parseElfIdent } from './elf.ts';
export { KERNEL_IMAGE_ERROR, KernelImageError, type KernelImageErrorCode } from './errors.ts';
export {
  buildZbootHeader,
  isZboot,
  parseZboot,
  ZBOOT,
  ZBOOT_COMPRESSION_TYPES,
  type ZbootCompressionType,
  type ZbootHeader,
  type ZbootHeaderInput,
} from './zboot.ts';
