/**
 * Native DSL runs use the same helper models: compiler/dsl's intrinsics with `nativeHelperHost`
 * installed give the results the interpreter gives for the same calls.
 */
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { E } from '../../../bpf/abi/index.ts';
import {
  Bytes,
  carrier,
  decompress,
  getPrandomU32,
  type HelperHost,
  IN,
  ktimeGetNs,
  OUT,
  setHelperHost,
  supplementInitrd,
} from '../../../compiler/dsl/index.ts';
import { readCpio } from '../../../formats/cpio/index.ts';
import { KernelLog, kexecHelpers, nativeHelperHost, ResourceStore } from '../../../runtime/helpers/index.ts';
import { concat, cstr, runAsm, signed } from './support.ts';

afterEach(() => {
  setHelperHost({});
});

describe('nativeHelperHost (compiler/dsl HelperHost)', () => {
  it('moves resources, decompresses and supplements like the interpreter', () => {
    const vmlinux = Uint8Array.from({ length: 5000 }, (_, i) => (i * 3) & 255);
    const gz = gzipSync(vmlinux);
    const addon = Uint8Array.of(1, 2, 3);
    const mk = () => ({
      resources: new ResourceStore({ kernel: gz, initrd: Uint8Array.of(7) }),
      log: new KernelLog(() => 0n),
      addons: new Map([['a.addon.efi', addon]]),
      verifyAddon: () => ({ errno: 0, reason: 'test: every addon accepted' }),
      clock: () => 42n,
      random: () => 0x1234_5678,
    });
    // native
    const n = mk();
    const host: HelperHost = nativeHelperHost(n);
    setHelperHost(host);
    const src = new Bytes(new Uint8Array(8192));
    expect(carrier('kernel', src, 8192, IN)).toBe(gz.length);
    const dst = new Bytes(new Uint8Array(8192).fill(9));
    expect(decompress(src, 8192, dst, 8192)).toBe(5000);
    expect(carrier('kernel', dst, 5000, OUT)).toBe(5000);
    expect(carrier('initrd', dst, 0, IN)).toBe(1);
    const appended = supplementInitrd('/.extra/addons', new Bytes(cstr('a.addon.efi')), 12);
    expect(decompress(src, 4, new Bytes(new Uint8Array(16)), 16)).toBe(-E.EBADMSG);
    expect(decompress(new Bytes(Uint8Array.of(1, 2, 3, 4)), 4, new Bytes(new Uint8Array(16)), 16)).toBe(-E.ENOEXEC);
    expect([ktimeGetNs(), getPrandomU32()]).toEqual([42n, 0x1234_5678]);
    // the interpreter, same calls
    const v = mk();
    const helpers = kexecHelpers(v);
    const mem = concat(cstr('kernel', 16), new Uint8Array(8192), new Uint8Array(8192).fill(9));
    const call = (text: string) => signed(runAsm(`mov %r6, %r1\n${text}\nexit`, { helpers, mem }).r0);
    expect(call('mov %r2, %r6\nadd %r2, 16\nmov %r3, 8192\nmov %r4, 0\ncall 212')).toBe(gz.length);
    expect(call('add %r1, 16\nmov %r3, %r1\nadd %r3, 8192\nmov %r2, 8192\nmov %r4, 8192\ncall 213')).toBe(5000);
    expect(call('mov %r2, %r6\nadd %r2, 8208\nmov %r3, 5000\nmov %r4, 1\ncall 212')).toBe(5000);
    expect(v.resources.get('kernel')).toEqual(n.resources.get('kernel'));
    expect(v.resources.get('kernel')).toEqual(vmlinux);
    expect(mem.subarray(8208)).toEqual(dst.raw());
    // supplement in the interpreter: dir at 0, name at 16
    const mem2 = concat(cstr('/.extra/addons', 16), cstr('a.addon.efi'));
    expect(signed(runAsm('mov %r2, %r1\nadd %r2, 16\nmov %r3, 12\ncall 214\nexit', { helpers, mem: mem2 }).r0)).toBe(
      appended,
    );
    expect(v.resources.get('initrd')).toEqual(n.resources.get('initrd'));
    expect(readCpio(n.resources.get('initrd')!, { offset: 4 }).entries.at(-1)!.data).toEqual(addon);
    expect(v.log.lines()).toEqual(n.log.lines().filter((l) => !l.includes('bpf_helper_decompress:')));
  });
});
