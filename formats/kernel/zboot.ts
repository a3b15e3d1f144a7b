/**
 * EFI zboot header (drivers/firmware/efi/libstub/zboot-header.S): the first 64 bytes of an arm64 / RISC-V /
 * LoongArch `vmlinuz.efi` that carries a compressed kernel Image as its payload.
 */
import { KERNEL_IMAGE_ERROR, KernelImageError, LeReader } from './errors.ts';

export const ZBOOT = {
  /** "MZ" then two zero bytes (MZ_MAGIC written as a 32-bit word). */
  MZ: 0x00005a4d,
  /** "zimg" at offset 4. */
  IMAGE_TYPE: 0x676d697a,
  OFF_MZ: 0x00,
  OFF_IMAGE_TYPE: 0x04,
  OFF_PAYLOAD_OFFSET: 0x08,
  OFF_PAYLOAD_SIZE: 0x0c,
  OFF_RESERVED: 0x10,
  OFF_COMP_TYPE: 0x18,
  OFF_LINUX_PE_MAGIC: 0x38,
  OFF_PE_HEADER: 0x3c,
  /** LINUX_PE_MAGIC, also used by LoongArch Images at 0x38. */
  LINUX_PE_MAGIC: 0x818223cd,
  HEADER_SIZE: 0x40,
} as const;

/**
 * Every compression type string the kernel has written at 0x18, with the decompressor format it names and
 * the size of the uncompressed-length trailer the build appends after the payload (not counted in the
 * header's payload size). Makefile.zboot: gzip lz4 lzma lzo xzkern zstd22 until "efi/zboot: Limit
 * compression options to GZIP and ZSTD" (v6.13), then gzip and zstd.
 */
export const ZBOOT_COMPRESSION_TYPES = {
  gzip: { format: 'gzip', sizeTrailer: 0, current: true },
  zstd: { format: 'zstd', sizeTrailer: 4, current: true },
  zstd22: { format: 'zstd', sizeTrailer: 4, current: false },
  lz4: { format: 'lz4', sizeTrailer: 4, current: false },
  lzma: { format: 'lzma', sizeTrailer: 4, current: false },
  lzo: { format: 'lzo', sizeTrailer: 4, current: false },
  xzkern: { format: 'xz', sizeTrailer: 4, current: false },
} as const;
export type ZbootCompressionType = keyof typeof ZBOOT_COMPRESSION_TYPES;

/** Room for the NUL-terminated type string: 0x18 up to LINUX_PE_MAGIC at 0x38. */
const COMP_TYPE_ROOM = ZBOOT.OFF_LINUX_PE_MAGIC - ZBOOT.OFF_COMP_TYPE;

export interface ZbootHeader {
  readonly payloadOffset: number;
  /** Compressed bytes, without the size trailer. */
  readonly payloadSize: number;
  readonly compressionType: ZbootCompressionType;
  /** Decompressor format for `decompress` (gzip, zstd, lz4, lzma, lzo, xz). */
  readonly format: (typeof ZBOOT_COMPRESSION_TYPES)[ZbootCompressionType]['format'];
  /** Uncompressed size from the trailer after the payload (non-gzip), or gzip's ISIZE. */
  readonly uncompressedSize: number;
  readonly peHeaderOffset: number;
  readonly linuxPeMagic: boolean;
  /** The compressed payload (a view into the file), without the size trailer. */
  readonly payload: Uint8Array;
}

const isZbootType = (s: string): s is ZbootCompressionType => Object.hasOwn(ZBOOT_COMPRESSION_TYPES, s);

/** True when the file starts with "MZ\0\0zimg". */
export const isZboot = (b: Uint8Array): boolean =>
  b.length >= 8 &&
  b[0] === 0x4d &&
  b[1] === 0x5a &&
  b[2] === 0 &&
  b[3] === 0 &&
  b[4] === 0x7a &&
  b[5] === 0x69 &&
  b[6] === 0x6d &&
  b[7] === 0x67;

export const parseZboot = (file: Uint8Array): ZbootHeader => {
  const r = new LeReader(file);
  if (r.u32(ZBOOT.OFF_MZ, 'the MZ magic') !== ZBOOT.MZ)
    throw new KernelImageError(KERNEL_IMAGE_ERROR.BAD_MAGIC, 0, 'no "MZ\\0\\0" at 0');
  if (r.u32(ZBOOT.OFF_IMAGE_TYPE, 'the image type') !== ZBOOT.IMAGE_TYPE) {
    throw new KernelImageError(
      KERNEL_IMAGE_ERROR.BAD_MAGIC,
      ZBOOT.OFF_IMAGE_TYPE,
      'no "zimg" image type at 4: not an EFI zboot image',
    );
  }
  const payloadOffset = r.u32(ZBOOT.OFF_PAYLOAD_OFFSET, 'the payload offset');
  const payloadSize = r.u32(ZBOOT.OFF_PAYLOAD_SIZE, 'the payload size');
  const peHeaderOffset = r.u32(ZBOOT.OFF_PE_HEADER, 'the PE header offset');
  const linuxPeMagic = r.u32(ZBOOT.OFF_LINUX_PE_MAGIC, 'LINUX_PE_MAGIC') === ZBOOT.LINUX_PE_MAGIC;
  const room = file.subarray(ZBOOT.OFF_COMP_TYPE, ZBOOT.OFF_COMP_TYPE + COMP_TYPE_ROOM);
  const nul = room.indexOf(0);
  if (nul < 0)
    throw new KernelImageError(
      KERNEL_IMAGE_ERROR.BAD_COMPRESSION_TYPE,
      ZBOOT.OFF_COMP_TYPE,
      'compression type is not NUL-terminated before 0x38',
    );
  const type = String.fromCharCode(...room.subarray(0, nul));
  if (!isZbootType(type)) {
    throw new KernelImageError(
      KERNEL_IMAGE_ERROR.BAD_COMPRESSION_TYPE,
      ZBOOT.OFF_COMP_TYPE,
      `unknown compression type ${JSON.stringify(type)}`,
    );
  }
  const kind = ZBOOT_COMPRESSION_TYPES[type];
  const end = payloadOffset + payloadSize;
  if (payloadOffset < ZBOOT.HEADER_SIZE || end + kind.sizeTrailer > file.length) {
    throw new KernelImageError(
      KERNEL_IMAGE_ERROR.PAYLOAD_OUT_OF_FILE,
      ZBOOT.OFF_PAYLOAD_OFFSET,
      `payload [0x${payloadOffset.toString(16)}, 0x${end.toString(16)}) plus a ${kind.sizeTrailer}-byte size trailer is not inside the ${file.length}-byte file`,
    );
  }
  const uncompressedSize = kind.sizeTrailer
    ? r.u32(end, 'the size trailer')
    : payloadSize >= 4
      ? r.u32(end - 4, 'the gzip ISIZE')
      : 0;
  return {
    payloadOffset,
    payloadSize,
    compressionType: type,
    format: kind.format,
    uncompressedSize,
    peHeaderOffset,
    linuxPeMagic,
    payload: file.subarray(payloadOffset, end),
  };
};

export interface ZbootHeaderInput {
  readonly payloadOffset: number;
  readonly payloadSize: number;
  readonly compressionType: ZbootCompressionType;
  readonly peHeaderOffset: number;
}

/** The 64-byte zboot header as zboot-header.S lays it out (the PE header itself is the PE writer's business). */
export const buildZbootHeader = (h: ZbootHeaderInput): Uint8Array => {
  const out = new Uint8Array(ZBOOT.HEADER_SIZE);
  const v = new DataView(out.buffer);
  for (const [name, value, at] of [
    ['payload offset', h.payloadOffset, ZBOOT.OFF_PAYLOAD_OFFSET],
    ['payload size', h.payloadSize, ZBOOT.OFF_PAYLOAD_SIZE],
    ['PE header offset', h.peHeaderOffset, ZBOOT.OFF_PE_HEADER],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new KernelImageError(KERNEL_IMAGE_ERROR.FIELD_RANGE, at, `${name} ${value} does not fit 32 bits`);
    }
    v.setUint32(at, value, true);
  }
  if (!isZbootType(h.compressionType)) {
    throw new KernelImageError(
      KERNEL_IMAGE_ERROR.BAD_COMPRESSION_TYPE,
      ZBOOT.OFF_COMP_TYPE,
      `unknown compression type ${JSON.stringify(h.compressionType)}`,
    );
  }
  v.setUint32(ZBOOT.OFF_MZ, ZBOOT.MZ, true);
  v.setUint32(ZBOOT.OFF_IMAGE_TYPE, ZBOOT.IMAGE_TYPE, true);
  for (let i = 0; i < h.compressionType.length; i++) out[ZBOOT.OFF_COMP_TYPE + i] = h.compressionType.charCodeAt(i);
  v.setUint32(ZBOOT.OFF_LINUX_PE_MAGIC, ZBOOT.LINUX_PE_MAGIC, true);
  return out;
};
