/**
 * The sidecar initrd archives systemd-stub generates (src/boot/cpio.c): one complete newc archive per
 * source, with a directory entry for every prefix of the target directory (0555, the last one with the
 * kind's mode), then the files in strcmp order, inode numbers from 1, uid/gid/mtime/dev/rdev/check 0,
 * nlink 1, and the stub's trailer, whose c_namesize is written "0000000B" with an upper-case B.
 */
import { CPIO_ERROR, CpioError } from './errors.ts';
import { NAME_MAX } from './newc.ts';
import { type CpioInput, writeCpio } from './writer.ts';

/** A sidecar archive kind: where its files go and with which modes. */
export interface SidecarKind {
  /** Target directory inside the initrd, relative (no leading `/`). */
  readonly dir: string;
  readonly dirMode: number;
  readonly fileMode: number;
  /** TPM PCR the stub measures the archive into, when it measures it. */
  readonly pcr?: number;
  /** The measurement's event description, where known. */
  readonly description?: string;
}
/** A kind filled from a directory listing: files whose names end with `suffix` (case-insensitive). */
export interface SidecarDirectoryKind extends SidecarKind {
  readonly suffix: string;
  readonly excludeSuffix?: string;
}
/** A kind holding one file made from a UKI section. */
export interface SidecarLiteralKind extends SidecarKind {
  readonly fileName: string;
}

/** The archives systemd-stub (v252–v258) builds, from `<uki>.efi.extra.d/`, `\loader\…` and UKI sections. */
export const SIDECARS = {
  credentials: {
    dir: '.extra/credentials',
    dirMode: 0o500,
    fileMode: 0o400,
    suffix: '.cred',
    pcr: 12,
    description: 'Credentials initrd',
  },
  globalCredentials: {
    dir: '.extra/global_credentials',
    dirMode: 0o500,
    fileMode: 0o400,
    suffix: '.cred',
    pcr: 12,
    description: 'Global credentials initrd',
  },
  sysext: {
    dir: '.extra/sysext',
    dirMode: 0o555,
    fileMode: 0o444,
    suffix: '.raw',
    excludeSuffix: '.confext.raw',
    pcr: 13,
    description: 'System extension initrd',
  },
  globalSysext: {
    dir: '.extra/global_sysext',
    dirMode: 0o555,
    fileMode: 0o444,
    suffix: '.raw',
    excludeSuffix: '.confext.raw',
    pcr: 13,
  },
  confext: {
    dir: '.extra/confext',
    dirMode: 0o555,
    fileMode: 0o444,
    suffix: '.confext.raw',
    pcr: 12,
    description: 'Configuration extension initrd',
  },
  globalConfext: { dir: '.extra/global_confext', dirMode: 0o555, fileMode: 0o444, suffix: '.confext.raw', pcr: 12 },
  pcrsig: { dir: '.extra', dirMode: 0o555, fileMode: 0o444, fileName: 'tpm2-pcr-signature.json' },
  pcrpkey: { dir: '.extra', dirMode: 0o555, fileMode: 0o444, fileName: 'tpm2-pcr-public-key.pem' },
  osrel: { dir: '.extra', dirMode: 0o555, fileMode: 0o444, fileName: 'os-release' },
  profile: { dir: '.extra', dirMode: 0o555, fileMode: 0o444, fileName: 'profile' },
} as const satisfies Record<string, SidecarDirectoryKind | SidecarLiteralKind>;

export interface SidecarFile {
  readonly name: string;
  readonly data: Uint8Array;
}

const isAscii = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
};

/** strcmp over UCS-2 code units, the stub's sort (plain `<` on JS strings compares UTF-16 code units). */
const strcmp16 = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The names the stub takes from a directory listing (directories already left out): not starting with `.`,
 * ending with the kind's suffix and not its exclude suffix (both case-insensitive), ASCII, at most 255
 * characters; sorted with strcmp.
 */
export const selectSidecarFiles = (names: readonly string[], kind: SidecarDirectoryKind): string[] => {
  const suffix = kind.suffix.toLowerCase();
  const exclude = kind.excludeSuffix?.toLowerCase();
  return names
    .filter((n) => {
      const lower = n.toLowerCase();
      return (
        !n.startsWith('.') &&
        lower.endsWith(suffix) &&
        !(exclude !== undefined && lower.endsWith(exclude)) &&
        isAscii(n) &&
        n.length <= NAME_MAX
      );
    })
    .sort(strcmp16);
};

/** Offset of the last hex digit of the trailer's c_namesize within the stub's 124-byte trailer. */
const TRAILER_NAMESIZE_LAST_DIGIT = 6 + 8 * 11 + 7;
const TRAILER_SIZE = 124;

/**
 * One archive exactly as the stub's pack_cpio_prefix + pack_cpio_one + pack_cpio_trailer write it, with the
 * files in the given order.
 */
export const packStubArchive = (kind: SidecarKind, files: readonly SidecarFile[]): Uint8Array => {
  const parts = kind.dir.split('/');
  const entries: CpioInput[] = [];
  // mkdir -p: every prefix 0555 (empty components skipped, as the stub does), the directory itself dirMode.
  for (let i = 1; i < parts.length; i++) {
    if (parts[i - 1] === '') continue;
    entries.push({ name: parts.slice(0, i).join('/'), type: 'directory', permissions: 0o555 });
  }
  entries.push({ name: kind.dir, type: 'directory', permissions: kind.dirMode });
  for (const f of files) {
    if (
      f.name === '' ||
      f.name.includes('/') ||
      f.name.includes('\0') ||
      !isAscii(f.name) ||
      f.name.length > NAME_MAX
    ) {
      throw new CpioError(
        CPIO_ERROR.BAD_NAME,
        0,
        `sidecar file name ${JSON.stringify(f.name)} is not one the stub would pack`,
      );
    }
    if (f.data.length > 0xffffffff)
      throw new CpioError(CPIO_ERROR.FIELD_RANGE, 0, `sidecar file ${f.name} is 4 GiB or larger`);
    entries.push({ name: `${kind.dir}/${f.name}`, type: 'file', permissions: kind.fileMode, data: f.data });
  }
  const out = writeCpio(entries, { firstIno: 1 });
  // The stub's trailer constant spells c_namesize "0000000B"; every other hex digit it writes is lower case.
  out[out.length - TRAILER_SIZE + TRAILER_NAMESIZE_LAST_DIGIT] = 0x42;
  return out;
};

/** The archive the stub builds from a directory listing, or undefined when no file qualifies (no archive at all). */
export const packSidecarDirectory = (
  kind: SidecarDirectoryKind,
  files: readonly SidecarFile[],
): Uint8Array | undefined => {
  const chosen = new Set(
    selectSidecarFiles(
      files.map((f) => f.name),
      kind,
    ),
  );
  const picked = files.filter((f) => chosen.has(f.name)).sort((a, b) => strcmp16(a.name, b.name));
  return picked.length === 0 ? undefined : packStubArchive(kind, picked);
};

/** The archive the stub builds from one UKI section (pack_cpio_literal): always produced, even for empty data. */
export const packSidecarLiteral = (kind: SidecarLiteralKind, data: Uint8Array): Uint8Array =>
  packStubArchive(kind, [{ name: kind.fileName, data }]);
