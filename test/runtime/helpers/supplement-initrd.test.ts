import { describe, expect, it } from 'vitest';
import { ADDON_MAP, E } from '../../../bpf/abi/index.ts';
import { readCpio, readCpioArchives } from '../../../formats/cpio/index.ts';
import {
  addonNameMap,
  authenticodeVerifier,
  KernelLog,
  kexecHelpers,
  MapTable,
  ResourceStore,
} from '../../../runtime/helpers/index.ts';
import { certsOf, oursSign } from '../../formats/authenticode-support.ts';
import { buildPe } from '../../formats/pe-build.ts';
import { testKeys } from '../../support/fixtures.ts';
import { concat, cstr, runAsm, signed } from './support.ts';

const keys = testKeys();
const unsigned = buildPe({ sections: [{ name: '.cmdline', data: new TextEncoder().encode('debug\0') }] }).bytes;
const signedAddon = oursSign(unsigned, keys.rsa);
const strangerSigned = oursSign(unsigned, keys.stranger);
const keyring = certsOf(keys.rsa.cert);

const addons = new Map<string, Uint8Array>([
  ['debug.addon.efi', signedAddon],
  ['stranger.addon.efi', strangerSigned],
  ['unsigned.addon.efi', unsigned],
  [
    'tampered.addon.efi',
    (() => {
      const t = signedAddon.slice();
      t[0x3c + 0x100]! ^= 1; // inside the hashed headers
      return t;
    })(),
  ],
]);

/** Input region: dst_dir at 0 (32 bytes), the addon name buffer at 32. */
const supplement = (size: number) => `
  mov %r2, %r1
  add %r2, 32
  mov %r3, ${size}
  call 214
  exit`;

const setup = (initrd?: Uint8Array) => {
  const resources = new ResourceStore(initrd === undefined ? {} : { initrd });
  const log = new KernelLog(() => 0n);
  return { resources, log, helpers: kexecHelpers({ resources, log, addons, keyring }) };
};

const call = (h: ReturnType<typeof setup>, dir: string, name: Uint8Array, size = name.length) =>
  signed(runAsm(supplement(size), { helpers: h.helpers, mem: concat(cstr(dir, 32), name) }).r0);

describe('bpf_helper_supplement_initrd (214)', () => {
  it('appends a verified addon as a newc archive under dst_dir, 4-byte aligned', () => {
    const h = setup(Uint8Array.of(1, 2, 3, 4, 5));
    const r = call(h, '/.extra/sysext', cstr('debug.addon.efi', 64));
    const initrd = h.resources.get('initrd')!;
    expect(r).toBe(initrd.length - 5);
    expect(initrd.subarray(0, 8)).toEqual(Uint8Array.of(1, 2, 3, 4, 5, 0, 0, 0));
    const archive = readCpio(initrd, { offset: 8 });
    expect(archive.entries.map((e) => [e.name, e.type, e.permissions.toString(8)])).toEqual([
      ['.extra', 'directory', '555'],
      ['.extra/sysext', 'directory', '555'],
      ['.extra/sysext/debug.addon.efi', 'file', '444'],
    ]);
    expect(archive.entries[2]!.data).toEqual(signedAddon);
    expect(archive.end).toBe(initrd.length);
    expect(h.log.lines()).toEqual([
      `[    0.000000] kexec_bpf: addon debug.addon.efi appended to initrd as /.extra/sysext/debug.addon.efi (${archive.end - 8} bytes)`,
    ]);
  });

  it("creates the initrd when there is none, and uses the stub's modes for its own directories", () => {
    const h = setup();
    expect(call(h, '/.extra/credentials/', cstr('debug.addon.efi'))).toBeGreaterThan(0);
    const [archive] = readCpioArchives(h.resources.get('initrd')!);
    expect(archive!.entries.map((e) => e.permissions.toString(8))).toEqual(['555', '500', '400']);
  });

  it('takes the name up to the first NUL or addon_size, refusing names of 256 bytes or more', () => {
    const h = setup();
    expect(call(h, '/.extra', Buffer.from('debug.addon.efiXYZ'), 15)).toBeGreaterThan(0);
    expect(call(h, '/.extra', new Uint8Array(ADDON_MAP.valueSize).fill(0x61))).toBe(-E.ENAMETOOLONG);
    expect(call(h, '/.extra', new Uint8Array(300).fill(0x61))).toBe(-E.ENAMETOOLONG);
  });

  it('answers the errno docs/ABI.md names and appends nothing', () => {
    const h = setup(Uint8Array.of(9));
    const cases: [string, Uint8Array, number][] = [
      ['/.extra', cstr('', 8), -E.EINVAL],
      ['/.extra', cstr('a/b', 8), -E.EINVAL],
      ['/', cstr('debug.addon.efi'), -E.EINVAL],
      ['/.extra/../x', cstr('debug.addon.efi'), -E.EINVAL],
      ['/.extra', cstr('missing.addon.efi'), -E.ENOENT],
      ['/.extra', cstr('stranger.addon.efi'), -E.ENOKEY],
      ['/.extra', cstr('unsigned.addon.efi'), -E.ENODATA],
      ['/.extra', cstr('tampered.addon.efi'), -E.EKEYREJECTED],
    ];
    for (const [dir, name, errno] of cases) expect([dir, call(h, dir, name)]).toEqual([dir, errno]);
    expect(h.resources.get('initrd')).toEqual(Uint8Array.of(9));
    expect(h.resources.replaced.size).toBe(0);
    expect(h.log.lines()[5]).toMatch(
      /kexec_bpf: bpf_helper_supplement_initrd\("stranger\.addon\.efi"\): .* -ENOKEY \(Required key not available\)$/,
    );
  });

  it('maps malformed signatures to -EBADMSG and broken ones to -EKEYREJECTED', () => {
    const verify = authenticodeVerifier(keyring);
    const flip = (at: number) => {
      const b = signedAddon.slice();
      b[at]! ^= 0xff;
      return verify(b, 'x');
    };
    // the WIN_CERTIFICATE starts where the unsigned image ended: +8 is the PKCS#7 SEQUENCE tag
    expect(flip(unsigned.length + 8).errno).toBe(-E.EBADMSG);
    expect(flip(unsigned.length + 8).reason).toMatch(/not an ASN\.1 SEQUENCE/);
    // the signature value is at the end of the SignedData
    expect(flip(signedAddon.length - 20).errno).toBe(-E.EKEYREJECTED);
    expect(verify(Uint8Array.of(1, 2, 3), 'x').errno).toBe(-E.EBADMSG);
    expect(verify(signedAddon, 'x')).toEqual({ errno: 0, reason: 'signature verified' });
  });

  it('walks the loader-filled addon-name map and supplements each addon (the ABI convention)', () => {
    const names = addonNameMap(['debug.addon.efi', 'missing.addon.efi']);
    const maps = new MapTable().add(names);
    const resources = new ResourceStore();
    const helpers = kexecHelpers({ maps, resources, addons, keyring });
    // for i in 0..16: v = lookup(i); if (!v || !v[0]) break; r = supplement("/.extra/addons", v, 256); sum results
    const prog = `
      mov %r6, %r1
      mov %r7, 0
      mov %r8, 0
    loop:
      stw [%r10-4], 0
      stxw [%r10-4], %r7
      lddw_map_fd %r1, 0
      mov %r2, %r10
      add %r2, -4
      call 1
      jeq %r0, 0, done
      ldxb %r1, [%r0]
      jeq %r1, 0, done
      mov %r2, %r0
      mov %r1, %r6
      mov %r3, ${ADDON_MAP.valueSize}
      call 214
      lsh %r8, 8
      and %r0, 0xff
      or %r8, %r0
      add %r7, 1
      jlt %r7, ${ADDON_MAP.maxEntries}, loop
    done:
      mov %r0, %r8
      exit`;
    const r = runAsm(prog, { helpers, maps, mem: cstr('/.extra/addons', 32) });
    const appended = resources.get('initrd')!.length;
    expect(Number(r.r0)).toBe(((appended & 0xff) << 8) | (-E.ENOENT & 0xff));
    expect(readCpio(resources.get('initrd')!).entries.at(-1)!.name).toBe('.extra/addons/debug.addon.efi');
  });

  it('consecutive calls for one directory extend one archive (the stub packs one per directory)', () => {
    const h = setup(Uint8Array.of(9));
    const a = call(h, '/.extra/sysext', cstr('debug.addon.efi'));
    const b = call(h, '/.extra/sysext', cstr('unsigned.addon.efi')); // refused: the archive stays as it was
    expect(b).toBe(-E.ENODATA);
    const c = call(h, '/.extra/sysext', cstr('stranger.addon.efi'));
    expect(c).toBe(-E.ENOKEY);
    const initrd = h.resources.get('initrd')!;
    expect(a).toBe(initrd.length - 1);
    const h2 = setup(Uint8Array.of(9));
    const verifyAll = kexecHelpers({
      resources: h2.resources,
      log: h2.log,
      addons,
      verifyAddon: () => ({ errno: 0, reason: 'ok' }),
    });
    const run = (dir: string, name: string) =>
      signed(runAsm(supplement(64), { helpers: verifyAll, mem: concat(cstr(dir, 32), cstr(name, 64)) }).r0);
    const first = run('/.extra/sysext', 'debug.addon.efi');
    const second = run('/.extra/sysext', 'unsigned.addon.efi');
    const out = h2.resources.get('initrd')!;
    expect(first + second).toBe(out.length - 1);
    const archives = readCpioArchives(out.subarray(4));
    expect(archives.length).toBe(1);
    expect(archives[0]!.entries.map((e) => [e.name, e.ino])).toEqual([
      ['.extra', 1],
      ['.extra/sysext', 2],
      ['.extra/sysext/debug.addon.efi', 3],
      ['.extra/sysext/unsigned.addon.efi', 4],
    ]);
    // another directory starts a new archive
    run('/.extra/confext', 'debug.addon.efi');
    expect(readCpioArchives(h2.resources.get('initrd')!.subarray(4)).length).toBe(2);
  });

  it('passes sidecar files (.cred, .raw) without a signature check, as the stub does', () => {
    const resources = new ResourceStore();
    const helpers = kexecHelpers({ resources, addons: new Map([['x.cred', Uint8Array.of(1, 2, 3)]]), keyring });
    const r = signed(
      runAsm(supplement(16), { helpers, mem: concat(cstr('/.extra/credentials', 32), cstr('x.cred', 16)) }).r0,
    );
    expect(r).toBe(resources.get('initrd')!.length);
    expect(readCpio(resources.get('initrd')!).entries.at(-1)!.data).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('takes a custom verifier (e.g. the simulated kernel keyrings with a blacklist)', () => {
    const resources = new ResourceStore();
    const helpers = kexecHelpers({
      resources,
      addons,
      verifyAddon: (_b, name) => ({ errno: name === 'debug.addon.efi' ? -E.EKEYREVOKED : 0, reason: 'blacklisted' }),
    });
    const run = (name: string) =>
      signed(runAsm(supplement(cstr(name).length), { helpers, mem: concat(cstr('/x', 32), cstr(name)) }).r0);
    expect(run('debug.addon.efi')).toBe(-E.EKEYREVOKED);
    expect(run('unsigned.addon.efi')).toBeGreaterThan(0);
  });
});
