/**
 * parsers/uki.ts: compiles, passes our verifier at fentry.s/kexec_pe_parser_hook, restates its facts
 * exactly, and on hand-picked UKIs (built with formats/uki buildUki, as ukify lays them out) produces the
 * kernel, initrd and command line that formats/uki's systemd-stub reference computes, natively and
 * compiled alike.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CARRIER_DIR, E, KEXEC_BPF_RESULT, KEXEC_BPF_RESULT_F, KEXEC_BPF_RESULT_MAGIC } from '../../bpf/abi/index.ts';
import { linkedFuncLinkage, linkedInsns, linkedMaps } from '../../compiler/index.ts';
import { SIDECARS } from '../../formats/cpio/index.ts';
import { MAX_SECTION_DATA } from '../../formats/pe/index.ts';
import { buildUki, type StubHandoff, stubHandoff, UkiError } from '../../formats/uki/index.ts';
import * as parser from '../../parsers/uki.ts';
import { prepareKexecHelpers } from '../../runtime/helpers/index.ts';
import { kexecParserHook, verify } from '../../runtime/verifier/index.ts';
import { buildPe } from '../formats/pe-build.ts';
import { payload, sign, synthBzImage } from '../runtime/kernel/support.ts';
import {
  runUkiCompiled,
  runUkiNative,
  runUkiParser,
  stubInputOf,
  type UkiRunInput,
  ukiCompiled,
} from './uki-support.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const stub = buildPe({
  sections: [
    { name: '.text', data: new Uint8Array(64).fill(0xc3), characteristics: 0x60000020 },
    { name: '.sbat', data: new Uint8Array(0x200) },
  ],
}).bytes;
const linux = synthBzImage(payload(5000));

const same = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean =>
  a === undefined || b === undefined ? a === b : Buffer.from(a).equals(Buffer.from(b));

/** Runs natively and compiled, asserts they agree, and compares with the stub reference. */
const check = async (input: UkiRunInput): Promise<StubHandoff | UkiError> => {
  const native = await runUkiNative(input);
  const vm = await runUkiCompiled(input);
  expect(vm.errno, vm.log).toBe(native.errno);
  expect(same(vm.kernel, native.kernel) && same(vm.initrd, native.initrd) && same(vm.cmdline, native.cmdline)).toBe(
    true,
  );
  let ref: StubHandoff | UkiError;
  try {
    ref = stubHandoff(stubInputOf(input));
  } catch (e) {
    if (!(e instanceof UkiError)) throw e;
    expect(native.errno, `the stub fails (${e.code}) but the parser succeeded`).toBeLessThan(0);
    return e;
  }
  expect(native.errno, native.log).toBe(0);
  expect(native.result?.flags).toBe(KEXEC_BPF_RESULT_F.KERNEL | KEXEC_BPF_RESULT_F.INITRD | KEXEC_BPF_RESULT_F.CMDLINE);
  expect(same(native.kernel, ref.kernel), 'kernel').toBe(true);
  expect(same(native.initrd, ref.initrd), 'initrd').toBe(true);
  expect(Buffer.from(native.cmdline ?? []).toString('utf8')).toBe(ref.cmdline);
  return ref;
};

beforeAll(() => prepareKexecHelpers());

describe('parsers/uki.ts', () => {
  it('compiles and passes our verifier with the hook’s policy (within 1M processed instructions)', () => {
    const out = ukiCompiled();
    const prog = out.programs[0]!;
    expect(prog.section).toBe('fentry.s/kexec_pe_parser_hook');
    const v = verify(linkedInsns(out, prog), {
      policy: kexecParserHook,
      maps: linkedMaps(out),
      sleepable: true,
      license: out.license,
      funcLinkage: linkedFuncLinkage(out, prog),
    });
    expect(v.accepted, v.summary).toBe(true);
    expect(v.stats.insnProcessed).toBeLessThan(1_000_000);
  }, 60_000);

  it('restates the ABI, PE, cpio and UKI facts exactly as their one definitions have them', () => {
    expect([parser.EINVAL, parser.ENOEXEC, parser.ENOENT, parser.EFBIG, parser.E2BIG, parser.ENOMEM]).toEqual([
      E.EINVAL,
      E.ENOEXEC,
      E.ENOENT,
      E.EFBIG,
      E.E2BIG,
      E.ENOMEM,
    ]);
    expect(parser.APPEND_DIR).toBe(CARRIER_DIR.APPEND);
    expect(parser.RESULT_SIZE).toBe(KEXEC_BPF_RESULT.size);
    expect(parser.RESULT_MAGIC).toBe(KEXEC_BPF_RESULT_MAGIC);
    expect(parser.MAX_SECTION_DATA).toBe(MAX_SECTION_DATA);
    expect([parser.RESULT_F_KERNEL, parser.RESULT_F_INITRD, parser.RESULT_F_CMDLINE]).toEqual([
      KEXEC_BPF_RESULT_F.KERNEL,
      KEXEC_BPF_RESULT_F.INITRD,
      KEXEC_BPF_RESULT_F.CMDLINE,
    ]);
    // the section-name words: name + NUL over at most 8 bytes (formats/uki sectionNameIs)
    const names = ['.linux', '.cmdline', '.initrd', '.ucode', '.uname', '.pcrsig', '.pcrpkey', '.osrel', '.profile'];
    names.forEach((n, i) => {
      const b = new Uint8Array(8);
      b.set(enc(n));
      const dv = new DataView(b.buffer);
      const k = Math.min(n.length + 1, 8);
      const mask = k >= 8 ? 0xffffffff : 2 ** ((k - 4) * 8) - 1;
      expect([parser.NAME_LO.at(i), parser.NAME_HI.at(i), parser.NAME_MASK.at(i)]).toEqual([
        dv.getUint32(0, true),
        dv.getUint32(4, true) & mask,
        mask,
      ]);
    });
    expect([SIDECARS.osrel.dirMode, SIDECARS.osrel.fileMode]).toEqual([0o555, 0o444]);
    expect(parser.DIR_MODE_EXTRA & 0o777).toBe(SIDECARS.osrel.dirMode);
    expect(parser.FILE_MODE_EXTRA & 0o777).toBe(SIDECARS.osrel.fileMode);
  });

  const uki = buildUki({
    stub,
    linux,
    cmdline: enc('  console=ttyS0\tquiet  splash '),
    initrds: [payload(1001, 3)],
    microcode: payload(37, 9),
    osRelease: enc('ID=test\nVERSION_ID=1\n'),
    pcrpkey: enc('-----BEGIN PUBLIC KEY-----\n'),
  });
  const profiled = buildUki({
    stub,
    linux,
    cmdline: enc('base'),
    initrds: [payload(64, 1)],
    profile: enc('ID=default'),
    joinProfiles: [
      buildUki({ stub, profile: enc('ID=debug'), cmdline: enc('debug  loglevel=7') }),
      buildUki({ stub, profile: enc('ID=rescue'), cmdline: enc('rescue'), initrds: [payload(5, 2)] }),
    ],
  });

  it('kernel, initrd (.ucode first, 4-byte padding, .extra archives) and .cmdline, mangled', async () => {
    const ref = await check({ uki });
    expect(ref).not.toBeInstanceOf(UkiError);
    expect((ref as StubHandoff).initrdPieces.map((p) => p.kind)).toEqual(['ucode', 'initrd', 'pcrpkey', 'osrel']);
  });

  it('the user’s command line wins (mangled); whitespace-only or control characters leave .cmdline', async () => {
    await check({ uki, cmdline: '  root=/dev/sda  ro ' });
    await check({ uki, cmdline: '   ' });
    await check({ uki, cmdline: 'root=/dev/sda\tro' });
    await check({ uki, cmdline: 'über=ja \u007f x' });
  });

  it('@N selects a profile and is removed; a missing profile fails; @ without digits is text', async () => {
    for (const cmdline of ['@0', '@1', '@2 quiet', '@0002  x', '@1x', '@', '@4294967296 big', 'a @1']) {
      await check({ uki: profiled, cmdline });
    }
    const missing = await runUkiNative({ uki: profiled, cmdline: '@3' });
    expect(missing.errno).toBe(-E.ENOENT);
    expect(await check({ uki: profiled, cmdline: '@4294967295' })).toBeInstanceOf(UkiError);
  });

  it('the user’s initrd goes after .ucode and before .initrd (the stub’s previously registered initrd)', async () => {
    await check({ uki, initrd: payload(13, 5) });
  });

  it('sidecars: one archive per directory with every file, credentials, sysext, confext in that order', async () => {
    await check({
      uki,
      cmdline: 'x',
      addons: [
        // the loader lists files in the stub's order (strcmp: upper case first)
        { name: '.hidden.cred', data: enc('no') },
        { name: 'D.CRED', data: enc('s2') },
        { name: 'a.cred', data: enc('secret') },
        { name: 'b.raw', data: payload(99) },
        { name: 'c.confext.raw', data: payload(9) },
      ],
    });
  });

  it('takes a PE addon in every slot of the addon-name map (ADDONS_MAX 16): .cmdline, .initrd, .ucode of each', async () => {
    expect(parser.ADDONS_MAX).toBe(16);
    const addons = Array.from({ length: parser.ADDONS_MAX }, (_, k) => ({
      name: `a${k.toString(16)}.addon.efi`,
      data: sign(
        buildUki({
          stub,
          cmdline: enc(`addon${k}=${'x'.repeat(k)}`),
          ...(k % 3 === 0 ? { initrds: [payload(17 + k, k)] } : {}),
          // all sixteen with .ucode: the count of .ucode pieces reaches 16
          microcode: payload(5 + k, k + 1),
        }),
      ),
    }));
    const ref = await check({ uki, addons });
    if (ref instanceof UkiError) throw ref;
    for (let k = 0; k < parser.ADDONS_MAX; k++) expect(ref.cmdline).toContain(`addon${k}=`);
  }, 60_000);

  it('kexec_file_load of the signed UKI in the simulated kernel: the kimage holds what the stub hands over', async () => {
    const input = {
      uki: profiled,
      cmdline: '@2 quiet',
      initrd: payload(21, 4),
      addons: [{ name: 'a.cred', data: enc('c') }],
    };
    const ref = stubHandoff(stubInputOf(input));
    const r = await runUkiParser(input);
    expect(r.errno, r.log).toBe(0);
    expect(r.result?.status).toBe(0);
    expect(same(r.kernel, ref.kernel) && same(r.initrd, ref.initrd)).toBe(true);
    expect(Buffer.from(r.cmdline ?? []).toString('utf8')).toBe(ref.cmdline);
  }, 60_000);

  it('fails cleanly, with nothing handed over, on what is not a UKI', async () => {
    const noLinux = buildUki({ stub, cmdline: enc('x') });
    expect((await runUkiNative({ uki: noLinux })).errno).toBe(-E.ENOEXEC);
    const vm = await runUkiCompiled({ uki: Uint8Array.of(1, 2, 3) });
    expect(vm.errno).toBe(-E.ENOEXEC);
    expect(vm.kernel).toBeUndefined();
    expect(vm.result?.format).toBe('uki');
  });

  it('takes a UKI of about 100 MB (the issue-8 benchmark: a 70 MB .initrd) and hands over the stub’s initrd', async () => {
    const initrd = new Uint8Array(70 << 20);
    for (let i = 0; i < initrd.length; i += 4096) initrd[i] = (i >>> 12) & 0xff;
    const big = buildUki({ stub, linux, cmdline: enc('quiet'), initrds: [initrd], microcode: payload(37, 9) });
    expect(big.length).toBeGreaterThan(70 << 20);
    const input = { uki: big, initrd: payload(13, 5) };
    const ref = stubHandoff(stubInputOf(input));
    const vm = await runUkiCompiled(input);
    expect(vm.errno, vm.log).toBe(0);
    expect(same(vm.kernel, ref.kernel) && same(vm.initrd, ref.initrd)).toBe(true);
    expect(Buffer.from(vm.cmdline ?? []).toString('utf8')).toBe(ref.cmdline);
  }, 60_000);

  it('refuses an image above IMAGE_MAX (128 MiB) with -EFBIG, before reading it', async () => {
    const big = new Uint8Array(parser.IMAGE_MAX + 1);
    big.set([0x4d, 0x5a]);
    const vm = await runUkiCompiled({ uki: big });
    expect(vm.errno).toBe(-E.EFBIG);
    expect(vm.kernel).toBeUndefined();
  });
});
