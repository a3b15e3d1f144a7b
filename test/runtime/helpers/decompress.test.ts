import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { E } from '../../../bpf/abi/index.ts';
import { KernelLog, kexecHelpers, prepareKexecHelpers } from '../../../runtime/helpers/index.ts';
import { missingTool } from '../../support/env.ts';
import { concat, runAsm, signed } from './support.ts';

const payload = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) % 251);

const tool = (cmd: string, args: string[], input: Uint8Array): Uint8Array => {
  const r = spawnSync(cmd, args, { input });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  return new Uint8Array(r.stdout);
};

/**
 * Input region: src at 0 (srcSize bytes, the buffer the program has), dst after it. The program returns
 * the helper's result.
 */
const decompress = (src: Uint8Array, srcSize: number, dstSize: number) => {
  const log = new KernelLog(() => 0n);
  const mem = concat(src, new Uint8Array(Math.max(0, srcSize - src.length)), new Uint8Array(dstSize).fill(0xaa));
  const prog = `
    mov %r3, %r1
    add %r3, ${srcSize}
    mov %r2, ${srcSize}
    mov %r4, ${dstSize}
    call 213
    exit`;
  const r = signed(runAsm(prog, { helpers: kexecHelpers({ log }), mem }).r0);
  return { r, dst: mem.subarray(srcSize), log };
};

describe('bpf_helper_decompress (213)', () => {
  it('decompresses gzip into dst, zero-filling the rest; trailing buffer bytes are ignored', () => {
    const gz = gzipSync(payload);
    const { r, dst, log } = decompress(gz, gz.length + 100, 4096);
    expect(r).toBe(3000);
    expect(dst.subarray(0, 3000)).toEqual(payload);
    expect(dst.subarray(3000).every((b) => b === 0)).toBe(true);
    expect(log.lines()).toEqual([`[    0.000000] kexec_bpf: decompressed ${gz.length + 100} bytes of gzip into 3000`]);
  });

  it('is bounded by dst_size: -ENOSPC, and dst all zero', () => {
    const gz = gzipSync(payload);
    expect(decompress(gz, gz.length, 3000).r).toBe(3000);
    const { r, dst } = decompress(gz, gz.length, 2999);
    expect(r).toBe(-E.ENOSPC);
    expect(dst.every((b) => b === 0)).toBe(true);
  });

  it('answers -ENOEXEC for data with no compression magic and -EBADMSG for truncated or corrupt streams', () => {
    const gz = gzipSync(payload);
    expect(decompress(Uint8Array.of(1, 2, 3, 4), 16, 64).r).toBe(-E.ENOEXEC);
    expect(decompress(new Uint8Array(0), 8, 64).r).toBe(-E.ENOEXEC);
    const truncated = decompress(gz.subarray(0, gz.length - 9), gz.length - 9, 4096);
    expect(truncated.r).toBe(-E.EBADMSG);
    expect(truncated.dst.every((b) => b === 0)).toBe(true);
    const corrupt = gz.slice();
    corrupt[corrupt.length - 6]! ^= 0xff; // the CRC-32
    expect(decompress(corrupt, corrupt.length, 4096).r).toBe(-E.EBADMSG);
    expect(decompress(corrupt, corrupt.length, 4096).log.lines()[0]).toMatch(
      /^\[ {4}0\.000000\] kexec_bpf: bpf_helper_decompress: gzip: .* -EBADMSG \(Bad message\)$/,
    );
  });

  it('decompresses zstd and xz payloads, bounded by dst_size', (ctx) => {
    const why = missingTool('zstd', 'xz');
    if (why) ctx.skip(why);
    for (const z of [tool('zstd', ['-c', '-q'], payload), tool('xz', ['-c', '--check=crc32'], payload)]) {
      const ok = decompress(z, z.length, 3072);
      expect(ok.r).toBe(3000);
      expect(ok.dst.subarray(0, 3000)).toEqual(payload);
      expect(decompress(z, z.length, 1000).r).toBe(-E.ENOSPC);
      expect(decompress(z.subarray(0, z.length - 5), z.length - 5, 4096).r).toBe(-E.EBADMSG);
    }
  });

  it('decompresses bzip2 once the asynchronous decoder is prepared', async (ctx) => {
    const why = missingTool('bzip2');
    if (why) ctx.skip(why);
    await prepareKexecHelpers();
    const bz = tool('bzip2', ['-c'], payload);
    expect(decompress(bz, bz.length, 3000).r).toBe(3000);
  });
});

describe('bpf_helper_decompress properties', () => {
  it('returns the length when it fits dst_size, -ENOSPC otherwise, and writes every byte of dst', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(640), (data, dstSize) => {
        const gz = gzipSync(data);
        const { r, dst } = decompress(gz, gz.length, dstSize);
        if (data.length <= dstSize) {
          expect(r).toBe(data.length);
          expect(dst.subarray(0, data.length)).toEqual(data);
          expect(dst.subarray(data.length).every((b) => b === 0)).toBe(true);
        } else {
          expect(r).toBe(-E.ENOSPC);
          expect(dst.every((b) => b === 0)).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });
});
