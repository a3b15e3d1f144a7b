/**
 * The demo's built-in sample, generated at demo time (no binaries are committed): a stub-shaped x86-64
 * EFI application (what `ukibpf build` needs of a systemd-stub: code, `.sbat`, `.sdmagic`), a small
 * bzImage-shaped kernel (boot protocol 2.15, 64-bit, a gzip payload; it passes the x86 kexec probe but
 * does not boot), an initrd (newc cpio with an /init script) and a credential sidecar.
 *
 *   node --import tsx samples/make-inputs.ts OUTDIR [--initrd-only]
 *
 * writes OUTDIR/{stub.efi,vmlinuz,initrd.cpio,demo.cred}; with --initrd-only just initrd.cpio and demo.cred
 * (the demo takes the real Debian stub and kernel when the fixture cache has them).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeFileAtomic } from '../kexec-tools-shim/cli/io.ts';
import { writeCpio } from '../formats/cpio/index.ts';
import { SETUP_HEADER } from '../formats/kernel/index.ts';
import { SCN, upsertSection } from '../formats/pe/index.ts';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** PE32+ layout constants (PE/COFF spec), for the header-only image the sections are added to. */
const PE = {
  lfanew: 0x40,
  machineAmd64: 0x8664,
  optionalSize: 240,
  magicPe32Plus: 0x20b,
  subsystemEfiApplication: 10,
  fileAlignment: 0x200,
  sectionAlignment: 0x1000,
  dataDirectories: 16,
} as const;

/** A PE32+ EFI application with no sections yet; formats/pe's writer adds them (and the checksum). */
const headerOnlyPe = (): Uint8Array => {
  const b = new Uint8Array(PE.fileAlignment);
  const v = new DataView(b.buffer);
  b.set(utf8('MZ'), 0);
  v.setUint32(0x3c, PE.lfanew, true);
  b.set(utf8('PE\0\0'), PE.lfanew);
  const coff = PE.lfanew + 4;
  v.setUint16(coff, PE.machineAmd64, true);
  v.setUint16(coff + 16, PE.optionalSize, true);
  v.setUint16(coff + 18, 0x0022, true); // EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE
  const opt = coff + 20;
  v.setUint16(opt, PE.magicPe32Plus, true);
  v.setBigUint64(opt + 24, 0x140000000n, true); // ImageBase
  v.setUint32(opt + 32, PE.sectionAlignment, true);
  v.setUint32(opt + 36, PE.fileAlignment, true);
  v.setUint16(opt + 48, 1, true); // MajorSubsystemVersion
  v.setUint32(opt + 56, PE.sectionAlignment, true); // SizeOfImage: headers only, so far
  v.setUint32(opt + 60, PE.fileAlignment, true); // SizeOfHeaders
  v.setUint16(opt + 68, PE.subsystemEfiApplication, true);
  v.setUint16(opt + 70, 0x0160, true); // HIGH_ENTROPY_VA | DYNAMIC_BASE | NX_COMPAT
  v.setUint32(opt + 108, PE.dataDirectories, true);
  return b;
};

const STUB_SBAT =
  'sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\n' +
  'ukibpf-sample-stub,1,ukibpf,ukibpf-sample-stub,1,https://example.invalid/ukibpf\n';

/** The sample stub: `xor eax, eax; ret` (EFI_SUCCESS) as .text, the SBAT, and a LoaderInfo marker. */
export const sampleStub = (): Uint8Array => {
  let pe = headerOnlyPe();
  const code = SCN.CNT_CODE | SCN.MEM_EXECUTE | SCN.MEM_READ;
  pe = upsertSection(pe, { name: '.text', data: Uint8Array.of(0x31, 0xc0, 0xc3), characteristics: code });
  const entry = new DataView(pe.buffer, pe.byteOffset).getUint32(0x3c, true) + 4 + 20 + 16;
  new DataView(pe.buffer, pe.byteOffset).setUint32(entry, PE.sectionAlignment, true); // AddressOfEntryPoint: .text
  // .sbat gets a whole file-aligned block, so the UKI's merged SBAT fits where the stub's was
  pe = upsertSection(pe, { name: '.sbat', data: utf8(STUB_SBAT) });
  pe = upsertSection(pe, { name: '.sdmagic', data: utf8('#### LoaderInfo: ukibpf sample stub ####\0') });
  return pe;
};

/**
 * A bzImage-shaped kernel: 4 setup sectors, the setup header (boot protocol 2.15, XLF_KERNEL_64,
 * a kernel_version string) and a gzip payload of recognisable text.
 */
export const sampleKernel = (): Uint8Array => {
  const setupSects = 4;
  const protectedMode = (setupSects + 1) * 512;
  const payload = gzipSync(Buffer.from('ukibpf sample kernel payload\n'.repeat(4096)));
  const version = utf8('6.1.0-sample (ukibpf demo) #1 SMP\0');
  const k = new Uint8Array(protectedMode + payload.length);
  const v = new DataView(k.buffer);
  const H = SETUP_HEADER;
  k[H.setup_sects] = setupSects;
  v.setUint16(H.boot_flag, 0xaa55, true);
  k.set(utf8('HdrS'), H.header);
  v.setUint16(H.version, 0x020f, true);
  const versionAt = 0x400;
  k.set(version, versionAt);
  v.setUint16(H.kernel_version, versionAt - 0x200, true);
  k[H.loadflags] = 0x01; // LOADED_HIGH: a bzImage
  v.setUint32(H.kernel_alignment, 0x200000, true);
  v.setUint16(H.xloadflags, 0x0003, true); // XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G
  v.setUint32(H.cmdline_size, 2047, true);
  v.setUint32(H.payload_offset, 0, true);
  v.setUint32(H.payload_length, payload.length, true);
  v.setUint32(H.init_size, 0x1000000, true);
  k.set(payload, protectedMode);
  return k;
};

/** An initramfs with an /init that shows what a booted system would see. */
export const sampleInitrd = (): Uint8Array =>
  writeCpio([
    { name: 'etc', type: 'directory' },
    { name: 'etc/os-release', data: 'ID=ukibpf-sample\nPRETTY_NAME="ukibpf sample initrd"\n' },
    {
      name: 'init',
      permissions: 0o755,
      data: '#!/bin/sh\necho "cmdline: $(cat /proc/cmdline)"\nls -lR /.extra\nexec poweroff -f\n',
    },
  ]);

/** A systemd credential sidecar: the stub packs it into /.extra/credentials/ (here, the parser does). */
export const sampleCredential = (): Uint8Array => utf8('hello from a credential sidecar\n');

const main = (argv: readonly string[]): void => {
  const [dir, flag] = argv;
  if (dir === undefined || (flag !== undefined && flag !== '--initrd-only')) {
    process.stderr.write('usage: make-inputs.ts OUTDIR [--initrd-only]\n');
    process.exitCode = 2;
    return;
  }
  mkdirSync(dir, { recursive: true });
  if (flag === undefined) {
    writeFileAtomic(join(dir, 'stub.efi'), sampleStub());
    writeFileAtomic(join(dir, 'vmlinuz'), sampleKernel());
  }
  writeFileAtomic(join(dir, 'initrd.cpio'), sampleInitrd());
  writeFileAtomic(join(dir, 'demo.cred'), sampleCredential());
};

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2));
