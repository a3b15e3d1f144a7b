/**
 * Boot resources a parser moves, the carrier directions, and the addon-name map the loader fills.
 * The resource ids are the v6 command stream's subcmd values, so both ABIs number them alike.
 */
import { layoutStruct } from './struct-layout.ts';

export const BOOT_RESOURCES = [
  { id: 1, name: 'kernel', description: 'the kernel image handed to the architecture loader' },
  { id: 2, name: 'initrd', description: 'the initramfs (cpio, possibly compressed, possibly concatenated)' },
  { id: 3, name: 'cmdline', description: 'the kernel command line, NUL-terminated' },
] as const;

export type BootResourceName = (typeof BOOT_RESOURCES)[number]['name'];

export const bootResource = (key: string | number) =>
  BOOT_RESOURCES.find((r) => (typeof key === 'number' ? r.id === key : r.name === key));

/** bpf_helper_carrier()'s `dir` argument. */
export const CARRIER_DIR = {
  /** kernel → program buffer */
  IN: 0,
  /** program buffer → kernel (replaces the resource) */
  OUT: 1,
  /** program buffer → kernel, appended to the resource (created when absent) */
  APPEND: 2,
} as const;
export type CarrierDir = keyof typeof CARRIER_DIR;

/** Largest resource the kernel accepts (the series' MAX_UNCOMPRESSED_BUF_SIZE / MAX_KEXEC_RES_SIZE). */
export const MAX_RESOURCE_SIZE = 1 << 29;

/** Longest resource name the carrier accepts, NUL included. */
export const RESOURCE_NAME_MAX = 16;

/**
 * The addon-name map: BPF_MAP_TYPE_ARRAY created and filled by the loader before the program runs,
 * one NUL-terminated addon file name per slot, an empty slot ends the list. The program only reads it
 * (BPF_F_RDONLY_PROG) and passes names to bpf_helper_supplement_initrd().
 */
export const ADDON_NAME_MAX = 256;
export const ADDON_MAP = {
  name: 'kexec_addons',
  mapType: 'BPF_MAP_TYPE_ARRAY',
  keySize: 4,
  valueSize: ADDON_NAME_MAX,
  maxEntries: 16,
  /** BPF_F_RDONLY_PROG (uapi 1U << 7) */
  mapFlags: 1 << 7,
} as const;

export const ADDON_ENTRY = layoutStruct('kexec_addon_name', [{ name: 'name', type: 'char', count: ADDON_NAME_MAX }]);
