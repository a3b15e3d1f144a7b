/**
 * Test images for kexec-bpf: a signed PE whose `.bpf` parser (bpf_helper_carrier, id 212) carries the
 * bytes of its `.linux` section out of the kernel resource — stripping the PE around the bzImage — and
 * variants for the error paths. Built from the kernel model's fixtures.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPe } from '../../formats/pe-build.ts';
import { testKeys } from '../../support/fixtures.ts';
import { parserObject, parserPe, payload, sign, synthBzImage } from '../../runtime/kernel/support.ts';

export const bzImage = (n = 4000): Uint8Array => synthBzImage(payload(n, 9));

export interface Images {
  readonly bz: Uint8Array;
  /** Signed with the test RSA key; parser extracts `bz`. */
  readonly signed: string;
  /** The same image, unsigned. */
  readonly unsigned: string;
  /** Signed, but its parser is one the verifier rejects (carries more than its ring-buffer record). */
  readonly rejected: string;
  /** Signed with the EC key (not in the keyring the tests pass). */
  readonly otherKey: string;
  /** Signed, and its parser appends addon 0 to the initrd. */
  readonly addon: string;
  /** A signed cmdline addon (`debug.addon.efi`). */
  readonly addonFile: string;
  readonly initrd: string;
  readonly cert: string;
}

export const writeImages = (dir: string): Images => {
  const bz = bzImage();
  const put = (name: string, bytes: Uint8Array): string => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const keys = testKeys();
  const pe = parserPe(bz);
  return {
    bz,
    signed: put('uki.efi', sign(pe)),
    unsigned: put('unsigned.efi', pe),
    rejected: put('rejected.efi', sign(parserPe(bz, (off, len) => parserObject(off, len, { inSize: 40000 })))),
    otherKey: put('other.efi', sign(pe, keys.ec)),
    addon: put('addon-uki.efi', sign(parserPe(bz, (off, len) => parserObject(off, len, { addon: true })))),
    addonFile: put(
      'debug.addon.efi',
      sign(buildPe({ sections: [{ name: '.cmdline', data: new Uint8Array(Buffer.from('debug\0')) }] }).bytes),
    ),
    initrd: put('initrd.img', payload(3000, 3)),
    cert: keys.rsa.cert,
  };
};
