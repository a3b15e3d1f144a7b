/**
 * x86 bzImage real-mode setup header (Documentation/arch/x86/boot.rst, arch/x86/boot/header.S): the
 * fields a loader reads, at their file offsets, and the compressed payload they locate.
 */
import { KERNEL_IMAGE_ERROR, KernelImageError, LeReader } from './errors.ts';

/** File offsets of the setup header fields used here. */
export const SETUP_HEADER = {
  setup_sects: 0x1f1,
  syssize: 0x1f4,
  boot_flag: 0x1fe,
  jump: 0x200,
  header: 0x202,
  version: 0x206,
  kernel_version: 0x20e,
  type_of_loader: 0x210,
  loadflags: 0x211,
  code32_start: 0x214,
  ramdisk_image: 0x218,
  ramdisk_size: 0x21c,
  cmd_line_ptr: 0x228,
  initrd_addr_max: 0x22c,
  kernel_alignment: 0x230,
  relocatable_kernel: 0x234,
  min_alignment: 0x235,
  xloadflags: 0x236,
  cmdline_size: 0x238,
  payload_offset: 0x248,
  payload_length: 0x24c,
  setup_data: 0x250,
  pref_address: 0x258,
  init_size: 0x260,
  handover_offset: 0x264,
  kernel_info_offset: 0x268,
} as const;

export const BOOT_FLAG = 0xaa55;
/** "HdrS". */
export const HDRS_MAGIC = 0x53726448;

export const LOADFLAGS = {
  LOADED_HIGH: 0x01,
  KASLR_FLAG: 0x02,
  QUIET_FLAG: 0x20,
  KEEP_SEGMENTS: 0x40,
  CAN_USE_HEAP: 0x80,
} as const;
export const XLOADFLAGS = {
  XLF_KERNEL_64: 1 << 0,
  XLF_CAN_BE_LOADED_ABOVE_4G: 1 << 1,
  XLF_EFI_HANDOVER_32: 1 << 2,
  XLF_EFI_HANDOVER_64: 1 << 3,
  XLF_EFI_KEXEC: 1 << 4,
  XLF_5LEVEL: 1 << 5,
  XLF_5LEVEL_ENABLED: 1 << 6,
  XLF_MEM_ENCRYPTION: 1 << 7,
} as const;

export interface BzImage {
  /** Protocol version, major << 8 | minor (e.g. 0x020f for 2.15). */
  readonly version: number;
  /** setup_sects as stored; 0 means 4. */
  readonly setupSectsField: number;
  readonly setupSects: number;
  /** File offset of the protected-mode code: (setup_sects + 1) * 512. */
  readonly protectedModeOffset: number;
  readonly syssize: number;
  readonly loadflags: number;
  /** Version ≥ 2.00 and LOADED_HIGH: a bzImage, not a zImage. */
  readonly isBzImage: boolean;
  readonly xloadflags: number;
  /** XLF_KERNEL_64 and XLF_CAN_BE_LOADED_ABOVE_4G with protocol ≥ 2.12: what kexec's bzImage64 probe requires. */
  readonly kexec64: boolean;
  readonly code32Start: number;
  readonly kernelAlignment: number;
  readonly relocatable: boolean;
  readonly cmdlineSize: number;
  /** The string kernel_version points at (0x200 + value), when present. */
  readonly kernelVersion: string | undefined;
  /** Payload offset relative to the protected-mode code, and its length (protocol ≥ 2.08). */
  readonly payloadOffset: number;
  readonly payloadLength: number;
  /** Absolute file offset of the payload. */
  readonly payloadFileOffset: number;
  /** The compressed vmlinux with the build's u32 size trailer as its last 4 bytes (a view into the file). */
  readonly payload: Uint8Array;
  /** The uncompressed size from that trailer. */
  readonly uncompressedSize: number;
  readonly setupData: bigint;
  readonly prefAddress: bigint;
  readonly initSize: number;
  readonly handoverOffset: number;
  readonly kernelInfoOffset: number;
  /** "MZ" at 0: an EFI-stub kernel that is also a PE image. */
  readonly efiStub: boolean;
}

/** Minimum protocol for payload_offset/payload_length. */
const PAYLOAD_PROTOCOL = 0x0208;

export const isBzImageFile = (b: Uint8Array): boolean =>
  b.length > 0x206 &&
  b[0x1fe] === 0x55 &&
  b[0x1ff] === 0xaa &&
  b[0x202] === 0x48 &&
  b[0x203] === 0x64 &&
  b[0x204] === 0x72 &&
  b[0x205] === 0x53;

export const parseBzImage = (file: Uint8Array): BzImage => {
  const r = new LeReader(file);
  const H = SETUP_HEADER;
  if (r.u16(H.boot_flag, 'boot_flag') !== BOOT_FLAG)
    throw new KernelImageError(KERNEL_IMAGE_ERROR.BAD_MAGIC, H.boot_flag, 'boot_flag is not 0xAA55');
  if (r.u32(H.header, 'the setup header magic') !== HDRS_MAGIC)
    throw new KernelImageError(KERNEL_IMAGE_ERROR.BAD_MAGIC, H.header, 'no "HdrS" at 0x202');
  const version = r.u16(H.version, 'version');
  if (version < PAYLOAD_PROTOCOL) {
    throw new KernelImageError(
      KERNEL_IMAGE_ERROR.OLD_PROTOCOL,
      H.version,
      `boot protocol ${(version >> 8).toString()}.${(version & 0xff).toString()} predates payload_offset (2.08)`,
    );
  }
  const setupSectsField = r.u8(H.setup_sects, 'setup_sects');
  const setupSects = setupSectsField === 0 ? 4 : setupSectsField;
  const protectedModeOffset = (setupSects + 1) * 512;
  const loadflags = r.u8(H.loadflags, 'loadflags');
  const xloadflags = version >= 0x020c ? r.u16(H.xloadflags, 'xloadflags') : 0;
  const payloadOffset = r.u32(H.payload_offset, 'payload_offset');
  const payloadLength = r.u32(H.payload_length, 'payload_length');
  const payloadFileOffset = protectedModeOffset + payloadOffset;
  if (payloadLength < 4 || payloadFileOffset + payloadLength > file.length) {
    throw new KernelImageError(
      KERNEL_IMAGE_ERROR.PAYLOAD_OUT_OF_FILE,
      H.payload_offset,
      `payload [0x${payloadFileOffset.toString(16)}, +0x${payloadLength.toString(16)}) is not inside the ${file.length}-byte file`,
    );
  }
  const kvPtr = r.u16(H.kernel_version, 'kernel_version');
  let kernelVersion: string | undefined;
  if (kvPtr !== 0 && 0x200 + kvPtr < file.length) {
    const at = 0x200 + kvPtr;
    const nul = file.indexOf(0, at);
    kernelVersion = String.fromCharCode(
      ...file.subarray(at, nul < 0 ? Math.min(file.length, at + 256) : Math.min(nul, at + 256)),
    );
  }
  const optional = <T>(min: number, read: () => T, none: T): T => (version >= min ? read() : none);
  const payload = file.subarray(payloadFileOffset, payloadFileOffset + payloadLength);
  return {
    version,
    setupSectsField,
    setupSects,
    protectedModeOffset,
    syssize: r.u32(H.syssize, 'syssize'),
    loadflags,
    isBzImage: (loadflags & LOADFLAGS.LOADED_HIGH) !== 0,
    xloadflags,
    kexec64:
      version >= 0x020c &&
      (xloadflags & (XLOADFLAGS.XLF_KERNEL_64 | XLOADFLAGS.XLF_CAN_BE_LOADED_ABOVE_4G)) ===
        (XLOADFLAGS.XLF_KERNEL_64 | XLOADFLAGS.XLF_CAN_BE_LOADED_ABOVE_4G),
    code32Start: r.u32(H.code32_start, 'code32_start'),
    kernelAlignment: r.u32(H.kernel_alignment, 'kernel_alignment'),
    relocatable: r.u8(H.relocatable_kernel, 'relocatable_kernel') !== 0,
    cmdlineSize: optional(0x0206, () => r.u32(H.cmdline_size, 'cmdline_size'), 255),
    kernelVersion,
    payloadOffset,
    payloadLength,
    payloadFileOffset,
    payload,
    uncompressedSize: r.u32(payloadFileOffset + payloadLength - 4, 'the payload size trailer'),
    setupData: optional(0x0209, () => r.u64(H.setup_data, 'setup_data'), 0n),
    prefAddress: optional(0x020a, () => r.u64(H.pref_address, 'pref_address'), 0n),
    initSize: optional(0x020a, () => r.u32(H.init_size, 'init_size'), 0),
    handoverOffset: optional(0x020b, () => r.u32(H.handover_offset, 'handover_offset'), 0),
    kernelInfoOffset: optional(0x020f, () => r.u32(H.kernel_info_offset, 'kernel_info_offset'), 0),
    efiStub: file[0] === 0x4d && file[1] === 0x5a,
  };
};
