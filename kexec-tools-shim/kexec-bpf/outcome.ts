/** How a load ends for the user: kexec-tools' messages, exit codes, the handover, the dump. */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ERRNO, errnoName } from '../../bpf/abi/index.ts';
import type { Kimage } from '../../runtime/kernel/index.ts';
import { ExitCode, type ExitCodeValue } from '../cli/exit.ts';
import { writeFilesAtomic } from '../cli/io.ts';
import type { LoadOutcome } from './session.ts';

/** glibc's strerror() text for a (negative or positive) errno. */
export const strerror = (errno: number): string => {
  const name = errnoName(errno);
  return name === undefined ? `Unknown error ${Math.abs(errno)}` : ERRNO[name].message;
};

/** Signature and policy refusals: the image was read and the answer is no. */
const REFUSALS = new Set(['EPERM', 'EACCES', 'EKEYREJECTED', 'ENOKEY', 'ENODATA', 'EBADMSG', 'EKEYEXPIRED']);

/**
 * 1: refused (signature, policy, verifier); 3: the image or a file could not be used (ENOEXEC, EINVAL,
 * a parser's errno, an unreadable file); 4: the loader failed (timeout, a crashed loader thread).
 */
export const exitCodeOf = (o: LoadOutcome): ExitCodeValue => {
  if (o.loaderCrash !== undefined) return ExitCode.INTERNAL;
  if (o.openFailed !== undefined) return ExitCode.BAD_INPUT;
  if (o.errno === 0) return ExitCode.OK;
  if (o.stages.some((s) => s.step === 'prog')) return ExitCode.REJECTED;
  const name = errnoName(o.errno) ?? '';
  if (REFUSALS.has(name)) return ExitCode.REJECTED;
  if (name === 'ETIMEDOUT' || name === 'EBUSY') return ExitCode.INTERNAL;
  return ExitCode.BAD_INPUT;
};

const hex = (n: number): string => `0x${n.toString(16)}`;

/** The command line as text (without the kernel's NUL). */
export const cmdlineText = (k: Kimage): string | undefined =>
  k.cmdline === undefined ? undefined : Buffer.from(k.cmdline).toString('utf8').replace(/\0+$/, '');

/** kimage.json: what was loaded, without the buffers (those are separate files in the dump). */
export const kimageSummary = (k: Kimage) => ({
  type: k.type,
  arch: k.arch,
  loader: k.loader,
  kernel: { size: k.kernel.length, sha256: k.kernelSha256 },
  initrd: k.initrd === undefined ? null : { size: k.initrd.length, sha256: k.initrdSha256 ?? null },
  cmdline: cmdlineText(k) ?? null,
  segments: k.segments.map((s) => ({ ...s, mem: hex(s.mem), memsz: hex(s.memsz) })),
  digest: k.digest,
  signature: k.signature ?? null,
  stages: k.stages.map((s) => ({
    depth: s.depth,
    sectionSha256: s.sectionSha256,
    programDigest: s.programDigest,
    result: s.result === undefined ? null : Buffer.from(s.result).toString('hex'),
  })),
});
export type KimageSummary = ReturnType<typeof kimageSummary>;

/**
 * Writes kernel, initrd, cmdline and kimage.json (`summary`) into `dir`,
 * each atomically; a stale initrd/cmdline goes.
 */
export const dumpKimage = async (dir: string, k: Kimage, summary: KimageSummary): Promise<string[]> => {
  mkdirSync(dir, { recursive: true });
  const files: [string, Uint8Array | string][] = [[join(dir, 'kernel'), k.kernel]];
  for (const [name, bytes] of [
    ['initrd', k.initrd],
    ['cmdline', k.cmdline === undefined ? undefined : new Uint8Array(Buffer.from(cmdlineText(k) ?? ''))],
  ] as const) {
    if (bytes === undefined) rmSync(join(dir, name), { force: true });
    else files.push([join(dir, name), bytes]);
  }
  files.push([join(dir, 'kimage.json'), `${JSON.stringify(summary, null, 2)}\n`]);
  await writeFilesAtomic(files);
  return files.map(([path]) => path);
};

/** What `kexec -e` would do next: reboot(LINUX_REBOOT_CMD_KEXEC) into these segments. */
export const handover = (k: Kimage): string => {
  const lines = [
    `kexec-bpf: would now reboot(LINUX_REBOOT_CMD_KEXEC) into the ${k.type} image (${k.arch}, ${k.loader})`,
    ...k.segments.map(
      (s, i) =>
        `  segment[${i}] ${s.name.padEnd(8)} mem=${hex(s.mem)} memsz=${hex(s.memsz)} bufsz=${hex(s.bufsz)} sha256=${s.sha256.slice(0, 16)}…`,
    ),
    `  command line: ${cmdlineText(k) ?? '(none)'}`,
    `  purgatory digest: sha256:${k.digest}`,
  ];
  return `${lines.join('\n')}\n`;
};
