/**
 * What the end-to-end boot needs besides the Debian fixtures: a busybox initramfs whose /init reports
 * what the booted kernel was given, an EFI zboot PE around a kernel (also used by bench/e2e), a child
 * process with a deadline (QEMU, kexec-bpf), and the static-binary check for busybox (a dynamic one
 * cannot run in an initramfs without its libraries).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeCpio } from '../../formats/cpio/index.ts';
import { buildZbootHeader, type ZbootCompressionType } from '../../formats/kernel/index.ts';
import { findSection, readPe, upsertSection } from '../../formats/pe/index.ts';
import { buildPe } from '../formats/pe-build.ts';
import { findTool } from '../support/env.ts';

/** Markers the /init script prints, so the test can find its lines among the kernel's console output. */
export const MARK = {
  cmdline: 'E2E-CMDLINE: ',
  extraBegin: 'E2E-EXTRA-BEGIN',
  extraEnd: 'E2E-EXTRA-END',
  cred: 'E2E-CRED ',
};

const INIT = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "${MARK.cmdline}$(/bin/busybox cat /proc/cmdline)"
echo "${MARK.extraBegin}"
/bin/busybox ls -lR /.extra
echo "${MARK.extraEnd}"
for f in $(/bin/busybox find /.extra/credentials -type f); do
  echo "${MARK.cred}$f: $(/bin/busybox cat "$f")"
done
/bin/busybox poweroff -f
`;

/** A newc initramfs: /bin/busybox, /init (the script above), /proc. */
export const busyboxInitrd = (busybox: Uint8Array): Uint8Array =>
  writeCpio([
    { name: 'bin', type: 'directory' },
    { name: 'bin/busybox', permissions: 0o755, data: busybox },
    { name: 'proc', type: 'directory' },
    { name: 'init', permissions: 0o755, data: INIT },
  ]);

const PT_INTERP = 3;

/** Why the busybox on PATH cannot be the initramfs's (not a 64-bit ELF, or dynamically linked), or undefined. */
export const unusableBusybox = (): string | undefined => {
  const path = findTool('busybox');
  if (path === undefined) return 'needs busybox (Debian busybox-static; make test installs it)';
  const elf = readFileSync(path);
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return `${path} is not a 64-bit ELF`;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  for (let i = 0; i < elf.readUInt16LE(0x38); i++) {
    if (elf.readUInt32LE(phoff + i * phentsize) === PT_INTERP) {
      return `${path} is dynamically linked: needs Debian's busybox-static`;
    }
  }
  return undefined;
};

export interface ChildRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  /** The deadline passed and the process was killed. */
  readonly timedOut: boolean;
}

/** Runs a program to its end or until `timeoutMs` (then SIGKILL); never rejects. */
export const runChild = (cmd: string, args: readonly string[], timeoutMs: number): Promise<ChildRun> =>
  new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const done = (code: number | null): void => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started, timedOut });
    };
    child.on('error', (e) => {
      stderr += String(e);
      done(null);
    });
    child.on('close', done);
  });

/**
 * An unsigned EFI zboot PE: the zboot header over the DOS header, `payload` (compressed with `type`) and
 * the 4-byte size trailer the non-gzip types carry in `.data`, then the parser object as `.bpf`.
 */
export const zbootPe = (
  type: ZbootCompressionType,
  payload: Uint8Array,
  kernelLength: number,
  bpf: Uint8Array,
): Uint8Array => {
  const trailer = type === 'gzip' ? 0 : 4;
  const data = new Uint8Array(payload.length + trailer);
  data.set(payload);
  if (trailer) new DataView(data.buffer).setUint32(payload.length, kernelLength, true);
  const pe = buildPe({ sections: [{ name: '.data', data, characteristics: 0xc0000040 }] }).bytes;
  const s = findSection(readPe(pe), '.data');
  if (s === undefined) throw new Error('zboot PE: no .data section');
  pe.set(
    buildZbootHeader({
      payloadOffset: s.pointerToRawData,
      payloadSize: payload.length,
      compressionType: type,
      peHeaderOffset: new DataView(pe.buffer).getUint32(0x3c, true),
    }),
  );
  return upsertSection(pe, { name: '.bpf', data: bpf });
};
