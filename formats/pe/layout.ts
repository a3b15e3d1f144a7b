/**
 * PE/COFF field offsets and constants (Microsoft PE format spec): the one place that names them.
 * Offsets are relative to the start of the structure they belong to; the reader turns them into file offsets.
 */

export const DOS = {
  MAGIC: 0x5a4d, // "MZ"
  HEADER_SIZE: 0x40,
  E_LFANEW: 0x3c,
} as const;

/** "PE\0\0" at e_lfanew, followed by the 20-byte COFF file header. */
export const PE_SIGNATURE = 0x00004550;
export const PE_SIGNATURE_SIZE = 4;

export const COFF = {
  SIZE: 20,
  MACHINE: 0,
  NUMBER_OF_SECTIONS: 2,
  TIME_DATE_STAMP: 4,
  POINTER_TO_SYMBOL_TABLE: 8,
  NUMBER_OF_SYMBOLS: 12,
  SIZE_OF_OPTIONAL_HEADER: 16,
  CHARACTERISTICS: 18,
} as const;

export const OPTIONAL_MAGIC = { PE32: 0x10b, PE32_PLUS: 0x20b } as const;

/** Optional-header fields at the same offset in PE32 and PE32+. */
export const OPT = {
  MAGIC: 0,
  SIZE_OF_CODE: 4,
  SIZE_OF_INITIALIZED_DATA: 8,
  SIZE_OF_UNINITIALIZED_DATA: 12,
  ADDRESS_OF_ENTRY_POINT: 16,
  BASE_OF_CODE: 20,
  SECTION_ALIGNMENT: 32,
  FILE_ALIGNMENT: 36,
  MAJOR_IMAGE_VERSION: 44,
  SIZE_OF_IMAGE: 56,
  SIZE_OF_HEADERS: 60,
  CHECKSUM: 64,
  SUBSYSTEM: 68,
  DLL_CHARACTERISTICS: 70,
} as const;

/** Fields whose offset depends on the format (ImageBase width, BaseOfData in PE32). */
export const OPT_BY_FORMAT = {
  PE32: { IMAGE_BASE: 28, IMAGE_BASE_SIZE: 4, NUMBER_OF_RVA_AND_SIZES: 92, DATA_DIRECTORIES: 96 },
  'PE32+': { IMAGE_BASE: 24, IMAGE_BASE_SIZE: 8, NUMBER_OF_RVA_AND_SIZES: 108, DATA_DIRECTORIES: 112 },
} as const;
export type PeFormat = keyof typeof OPT_BY_FORMAT;

export const DATA_DIRECTORY_SIZE = 8;
/** Loaders read at most 16 data directories; more is malformed. */
export const MAX_DATA_DIRECTORIES = 16;
export const DIRECTORY = {
  EXPORT: 0,
  IMPORT: 1,
  RESOURCE: 2,
  EXCEPTION: 3,
  /** The certificate table; its "VirtualAddress" is a FILE offset and the table is never mapped. */
  SECURITY: 4,
  BASERELOC: 5,
  DEBUG: 6,
} as const;

export const SECTION = {
  SIZE: 40,
  NAME: 0,
  NAME_SIZE: 8,
  VIRTUAL_SIZE: 8,
  VIRTUAL_ADDRESS: 12,
  SIZE_OF_RAW_DATA: 16,
  POINTER_TO_RAW_DATA: 20,
  CHARACTERISTICS: 36,
} as const;

export const SCN = {
  CNT_CODE: 0x20,
  CNT_INITIALIZED_DATA: 0x40,
  CNT_UNINITIALIZED_DATA: 0x80,
  MEM_DISCARDABLE: 0x02000000,
  MEM_EXECUTE: 0x20000000,
  MEM_READ: 0x40000000,
  MEM_WRITE: 0x80000000,
} as const;

/** COFF symbol records (deprecated in images, but the systemd 252 stub still carries them at EOF). */
export const SYMBOL_SIZE = 18;

/** IMAGE_DEBUG_DIRECTORY entries hold a file offset of their data that must follow moved raw data. */
export const DEBUG_ENTRY = { SIZE: 28, POINTER_TO_RAW_DATA: 24 } as const;

/** WIN_CERTIFICATE header of one certificate-table entry; entries start 8-byte aligned. */
export const WIN_CERT = {
  HEADER_SIZE: 8,
  LENGTH: 0,
  REVISION: 4,
  TYPE: 6,
  REVISION_2_0: 0x0200,
  TYPE_PKCS_SIGNED_DATA: 0x0002,
  ALIGN: 8,
} as const;


export const MACHINE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x14c, 'i386'],
  [0x8664, 'x86_64'],
  [0xaa64, 'aarch64'],
  [0x1c2, 'thumb'],
  [0x1c4, 'armnt'],
  [0x5032, 'riscv32'],
  [0x5064, 'riscv64'],
  [0x6232, 'loongarch32'],
  [0x6264, 'loongarch64'],
]);
