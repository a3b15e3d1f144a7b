/**
 * kimage_validate_signature() in the model: each policy with unsigned, untrusted, tampered and malformed
 * images, and the errno verify_pefile_signature / pkcs7 return for each. The images carry no `.bpf`
 * section and are no bzImage, so a load that gets past the signature ends at the arch probe (-ENOEXEC).
 */
import { closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { E, E as KERNEL_ERRNO } from '../../../bpf/abi/index.ts';
import { readPe } from '../../../formats/pe/index.ts';
import { KEXEC_FILE, Kernel, type KernelOptions, Keyrings } from '../../../runtime/kernel/index.ts';
import { buildPe } from '../../formats/pe-build.ts';
import { testKeys } from '../../support/fixtures.ts';
import { openRead, payload, sign, synthBzImage, tempDir } from './support.ts';

const keys = testKeys();
const tmp = tempDir();
afterAll(() => tmp.remove());

const plainPe = (): Uint8Array =>
  buildPe({ sections: [{ name: '.text', data: payload(0x400), characteristics: 0x60000020 }] }).bytes;

let n = 0;
/** Loads `image` into a fresh kernel; resolves to the errno and the kernel (shut down). */
const load = async (image: Uint8Array, o: Partial<KernelOptions>): Promise<{ errno: number; dmesg: string[] }> => {
  const file = join(tmp.dir, `image-${n++}.efi`);
  writeFileSync(file, image);
  const kernel = await Kernel.create({ procRoot: join(tmp.dir, 'proc'), ...o });
  const fd = openRead(file);
  try {
    const errno = await kernel.kexecFileLoad({ kernelFd: fd, initrdFd: -1, flags: KEXEC_FILE.NO_INITRAMFS });
    return { errno, dmesg: kernel.dmesg() };
  } finally {
    closeSync(fd);
    kernel.shutdown();
  }
};

const trusted = { keyrings: { builtin: [keys.rsa.cert] } };
const force = { ...trusted, sigPolicy: 'kexec_sig_force' as const };

/** The certificate table's file offset of a signed image. */
const certAt = (b: Uint8Array): number => {
  const t = readPe(b).certificateTable;
  if (!t) throw new Error('unsigned');
  return t.offset;
};

describe('KEXEC_SIG_FORCE', () => {
  it('accepts a trusted signature (the load then ends at the arch probe)', async () => {
    const r = await load(sign(plainPe()), force);
    expect(r.errno).toBe(-E.ENOEXEC);
    expect(r.dmesg.join('\n')).toContain('kexec_file: kernel signature verified (secondary keyring)');
    expect(r.dmesg.join('\n')).toContain('kexec-bzImage64: Not a bzImage');
  });

  it('refuses an unsigned image with -ENODATA', async () => {
    const r = await load(plainPe(), force);
    expect(r.errno).toBe(-E.ENODATA);
    expect(r.dmesg.join('\n')).toContain('kexec_file: Enforced kernel signature verification failed (-61).');
  });

  it('refuses a signer no keyring trusts with -ENOKEY', async () => {
    expect((await load(sign(plainPe(), keys.stranger), force)).errno).toBe(-E.ENOKEY);
    expect((await load(sign(plainPe()), { sigPolicy: 'kexec_sig_force' })).errno).toBe(-E.ENOKEY);
  });

  it('falls back to the platform keyring on -ENOKEY', async () => {
    const r = await load(sign(plainPe()), { sigPolicy: 'kexec_sig_force', keyrings: { platform: [keys.rsa.cert] } });
    expect(r.errno).toBe(-E.ENOEXEC);
    expect(r.dmesg.join('\n')).toContain('(platform keyring)');
  });

  it('refuses an image changed after signing with -EKEYREJECTED', async () => {
    const b = sign(plainPe());
    const text = readPe(b).sections[0]!.pointerToRawData;
    b[text + 10]! ^= 0xff;
    expect((await load(b, force)).errno).toBe(-E.EKEYREJECTED);
  });

  it('refuses a malformed PKCS#7 blob with -EBADMSG', async () => {
    const b = sign(plainPe());
    b[certAt(b) + 8] = 0x04; // the SignedData's outer SEQUENCE tag becomes an OCTET STRING
    expect((await load(b, force)).errno).toBe(-E.EBADMSG);
  });

  it('refuses a WIN_CERTIFICATE of another revision with -ENOTSUPP (524)', async () => {
    const b = sign(plainPe());
    new DataView(b.buffer).setUint16(certAt(b) + 4, 0x0100, true);
    expect((await load(b, force)).errno).toBe(-E.ENOTSUPP);
  });

  it('refuses a file that is not a PE with -ELIBBAD', async () => {
    expect((await load(synthBzImage(payload(100)), force)).errno).toBe(-KERNEL_ERRNO.ELIBBAD);
  });
});

describe('KEXEC_SIG without enforcement', () => {
  it('logs the failure at debug level and goes on', async () => {
    const r = await load(plainPe(), { ...trusted, sigPolicy: 'kexec_sig' });
    expect(r.errno).toBe(-E.ENOEXEC);
    expect(r.dmesg.join('\n')).toContain('kexec_file: kernel signature verification failed (-61).');
    expect(r.dmesg.join('\n')).toContain('PEFILE: the image has no certificate table (unsigned)');
  });

  it('answers -EPERM in a locked-down kernel', async () => {
    expect((await load(plainPe(), { ...trusted, sigPolicy: 'kexec_sig', lockdown: true })).errno).toBe(-E.EPERM);
    expect((await load(sign(plainPe(), keys.stranger), { ...trusted, lockdown: true })).errno).toBe(-E.EPERM);
    expect((await load(sign(plainPe()), { ...trusted, lockdown: true })).errno).toBe(-E.ENOEXEC);
  });
});

describe("the policy 'off'", () => {
  it('checks nothing', async () => {
    const r = await load(plainPe(), { sigPolicy: 'off' });
    expect(r.errno).toBe(-E.ENOEXEC);
    expect(r.dmesg.join('\n')).not.toContain('PEFILE');
  });
});

describe('keyrings from certificate files', () => {
  it('loads PEM and DER certificates per keyring and names a bad file', () => {
    const k = Keyrings.fromFiles({ builtin: [keys.rsa.cert], platform: [keys.rsa.certDer, keys.stranger.cert] });
    expect(k.builtin.map((c) => c.subject)).toEqual(k.platform.slice(0, 1).map((c) => c.subject));
    expect(k.platform).toHaveLength(2);
    expect(k.all).toHaveLength(3);
    const junk = join(tmp.dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate');
    expect(() => Keyrings.fromFiles({ secondary: [junk] })).toThrow(/junk\.pem/);
  });
});
