/**
 * bpf_helper_supplement_initrd(dst_dir, addon, addon_size) (214), docs/ABI.md §2.3: the addon the loader
 * supplied under that name is signature-checked, wrapped in a newc archive as <dst_dir>/<addon> (parent
 * directories first, systemd-stub's layout and modes — formats/cpio packStubArchive) and appended to the
 * initrd at a 4-byte aligned offset. Returns the bytes appended (alignment padding included). On any
 * error nothing is appended.
 *
 * Consecutive calls with the same dst_dir, with the initrd untouched in between (no carrier OUT/APPEND, no
 * call for another directory), extend the archive the previous call appended instead of adding a second
 * one: it is packed again with all the files in call order, as systemd-stub packs one archive per
 * directory (formats/cpio packSidecarDirectory). The result is then what the initrd grew by.
 */
import { ADDON_NAME_MAX, describeErrno, E, MAX_RESOURCE_SIZE } from '../../bpf/abi/index.ts';
import {
  CpioError,
  PATH_MAX,
  packStubArchive,
  SIDECARS,
  type SidecarFile,
  type SidecarKind,
} from '../../formats/cpio/index.ts';
import type { HelperFn } from '../vm/index.ts';
import type { AddonVerifier } from './addon-verify.ts';
import { argU32, latin1, readCString, ret } from './args.ts';
import type { KernelLogSink } from './kernel-log.ts';
import type { KexecResources } from './resources.ts';

/** Addon files by name, as the loader hands them over (a Map works). */
export interface AddonStore {
  get(name: string): Uint8Array | undefined;
}

/** Modes of the archive for `dir`: the stub's for its own sidecar directories, else the sysext ones (0555/0444). */
const kindFor = (dir: string): SidecarKind => {
  const known = Object.values(SIDECARS).find((k) => k.dir === dir);
  return { dir, dirMode: known?.dirMode ?? 0o555, fileMode: known?.fileMode ?? 0o444 };
};

/**
 * Sidecar files (credentials `*.cred`, system/configuration extensions `*.raw`, suffixes as formats/cpio
 * SIDECARS names them, case-insensitive) are not PE images and carry no Authenticode signature:
 * systemd-stub packs them unverified and measures them (PCR 12/13), their consumers authenticate them
 * (encrypted credentials, dm-verity signed images). They are passed without a signature check; every
 * other file, the `*.addon.efi` PE addons above all, must verify.
 */
export const SIDECAR_SUFFIXES: readonly string[] = [
  ...new Set(Object.values(SIDECARS).flatMap((k) => ('suffix' in k ? [k.suffix] : []))),
];
export const isUnsignedSidecar = (name: string): boolean => {
  const lower = name.toLowerCase();
  return SIDECAR_SUFFIXES.some((s) => lower.endsWith(s));
};

/** "/.extra/sysext" → ".extra/sysext"; undefined for "", "/", or "."/".."/empty components. */
export const normalizeDir = (dir: string): string | undefined => {
  const parts = dir.replace(/^\/+/, '').replace(/\/+$/, '').split('/');
  return parts.some((p) => p === '' || p === '.' || p === '..') ? undefined : parts.join('/');
};

export interface SupplementDeps {
  readonly resources: KexecResources;
  readonly addons: AddonStore;
  readonly verify: AddonVerifier;
  readonly log: KernelLogSink;
}

/**
 * The helper's semantics over plain values: `dstDir` the directory string (undefined when unreadable),
 * `addon` the name buffer (the name ends at its first NUL or its end). Bytes appended or -errno.
 */
/** The archive the last successful call appended: where it starts, its files, and the initrd it produced. */
interface LastArchive {
  readonly dir: string;
  readonly start: number;
  readonly files: readonly SidecarFile[];
  readonly initrd: Uint8Array;
}

export const supplementInitrdModel = ({ resources, addons, verify, log }: SupplementDeps) => {
  let last: LastArchive | undefined;
  return (rawDir: string | undefined, buf: Uint8Array): number => {
    const nul = buf.indexOf(0);
    const nameBytes = nul < 0 ? buf : buf.subarray(0, nul);
    const name = latin1(nameBytes.subarray(0, ADDON_NAME_MAX));
    const fail = (errno: number, why: string): number => {
      log.log(
        'err',
        `kexec_bpf: bpf_helper_supplement_initrd(${JSON.stringify(name)}): ${why}: ${describeErrno(-errno)}`,
      );
      return -errno;
    };
    if (nameBytes.length >= ADDON_NAME_MAX)
      return fail(E.ENAMETOOLONG, `name not terminated within ${ADDON_NAME_MAX} bytes`);
    if (name === '' || name.includes('/')) return fail(E.EINVAL, 'bad addon name');
    const dir = rawDir === undefined ? undefined : normalizeDir(rawDir);
    if (dir === undefined) return fail(E.EINVAL, `bad directory ${JSON.stringify(rawDir ?? '?')}`);
    const bytes = addons.get(name);
    if (bytes === undefined) return fail(E.ENOENT, 'no such addon');
    if (!isUnsignedSidecar(name)) {
      const verdict = verify(bytes, name);
      if (verdict.errno !== 0) return fail(-verdict.errno, verdict.reason);
    }
    const initrd = resources.get('initrd') ?? new Uint8Array(0);
    const extend = last !== undefined && last.dir === dir && last.initrd === initrd ? last : undefined;
    const files = [...(extend?.files ?? []), { name, data: bytes }];
    let archive: Uint8Array;
    try {
      archive = packStubArchive(kindFor(dir), files);
    } catch (e) {
      if (e instanceof CpioError) return fail(E.EINVAL, e.message);
      throw e;
    }
    const start = extend?.start ?? initrd.length + ((4 - (initrd.length % 4)) % 4);
    const total = start + archive.length;
    if (total > MAX_RESOURCE_SIZE) return fail(E.E2BIG, `initrd would be ${total} bytes`);
    const out = new Uint8Array(total);
    out.set(initrd.subarray(0, Math.min(start, initrd.length)));
    out.set(archive, start);
    resources.set('initrd', out);
    last = { dir, start, files, initrd: out };
    log.log(
      'info',
      `kexec_bpf: addon ${name} appended to initrd as /${dir}/${name} (${extend ? `archive of ${files.length} files, ` : ''}${archive.length} bytes)`,
    );
    return total - initrd.length;
  };
};

export const supplementInitrdHelper = (deps: SupplementDeps): HelperFn => {
  const model = supplementInitrdModel(deps);
  return (env) =>
    ret(env, model(readCString(env.memory, env.arg(1), PATH_MAX), env.memory.slice(env.arg(2), argU32(env, 3))));
};
