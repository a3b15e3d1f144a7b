/** arm64 Image header (Documentation/arch/arm64/booting.rst): 64 bytes, little-endian, magic "ARM\x64" at 0x38. */
import { KERNEL_IMAGE_ERROR, KernelImageError, LeReader } from './errors.ts';

export const ARM64_IMAGE = {
  OFF_CODE0: 0x00,
  OFF_CODE1: 0x04,
  OFF_TEXT_OFFSET: 0x08,
  OFF_IMAGE_SIZE: 0x10,
  OFF_FLAGS: 0x18,
  OFF_MAGIC: 0x38,
  OFF_PE_HEADER: 0x3c,
  /** "ARM\x64". */
  MAGIC: 0x644d5241,
  /** text_offset to assume when image_size is 0 (kernels before 3.17). */
  LEGACY_TEXT_OFFSET: 0x80000n,
} as const;

/** flags bits 1-2: kernel page size. */
export const ARM64_PAGE_SIZES = { 0: undefined, 1: 4096, 2: 16384, 3: 65536 } as const;

export interface Arm64Image {
  readonly code0: number;
  readonly code1: number;
  readonly textOffset: bigint;
  /** Effective image size including BSS; 0 on kernels before 3.17. */
  readonly imageSize: bigint;
  readonly flags: bigint;
  readonly bigEndian: boolean;
  /** Page size from flags bits 1-2, undefined when unspecified (0). */
  readonly pageSize: number | undefined;
  /** flags bit 3: 0 = placed 2 MiB-aligned near the base of DRAM, 1 = anywhere. */
  readonly physPlacementAnywhere: boolean;
  /** res5: the PE header offset of an EFI-stub Image. */
  readonly peHeaderOffset: number;
  /** code0 starts with "MZ": the Image is also a PE/COFF EFI application. */
  readonly efiStub: boolean;
}

export const isArm64Image = (b: Uint8Array): boolean =>
  b.length >= 0x40 && b[0x38] === 0x41 && b[0x39] === 0x52 && b[0x3a] === 0x4d && b[0x3b] === 0x64;

export const parseArm64Image = (file: Uint8Array): Arm64Image => {
  const r = new LeReader(file);
  const I = ARM64_IMAGE;
  if (r.u32(I.OFF_MAGIC, 'the Image magic') !== I.MAGIC)
    throw new KernelImageError(KERNEL_IMAGE_ERROR.BAD_MAGIC, I.OFF_MAGIC, 'no "ARM\\x64" magic at 0x38');
  const imageSize = r.u64(I.OFF_IMAGE_SIZE, 'image_size');
  const flags = r.u64(I.OFF_FLAGS, 'flags');
  const page = Number((flags >> 1n) & 3n) as 0 | 1 | 2 | 3;
  return {
    code0: r.u32(I.OFF_CODE0, 'code0'),
    code1: r.u32(I.OFF_CODE1, 'code1'),
    textOffset: imageSize === 0n ? I.LEGACY_TEXT_OFFSET : r.u64(I.OFF_TEXT_OFFSET, 'text_offset'),
    imageSize,
    flags,
    bigEndian: (flags & 1n) !== 0n,
    pageSize: ARM64_PAGE_SIZES[page],
    physPlacementAnywhere: (flags & 8n) !== 0n,
    peHeaderOffset: r.u32(I.OFF_PE_HEADER, 'res5 (PE header offset)'),
    efiStub: file[0] === 0x4d && file[1] === 0x5a,
  };
};
