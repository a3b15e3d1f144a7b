/**
 * parsers/zboot.ts: compiles, passes our verifier at fentry.s/kexec_pe_parser_hook, and on built zboot
 * images (every compression type, and broken headers and payloads) gives the same result record and
 * kernel resource natively and compiled. Header verdicts are cross-checked with formats/kernel's
 * parseZboot.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  E,
  fieldOf,
  KEXEC_BPF_RESULT,
  KEXEC_BPF_RESULT_F,
  KEXEC_BPF_RESULT_MAGIC,
  KEXEC_BPF_RESULT_VERSION,
} from '../../bpf/abi/index.ts';
import * as parser from '../../parsers/zboot.ts';
import { linkedInsns, linkedMaps } from '../../compiler/index.ts';
import { parseZboot, ZBOOT, ZBOOT_COMPRESSION_TYPES, type ZbootCompressionType } from '../../formats/kernel/index.ts';
import { prepareKexecHelpers } from '../../runtime/helpers/index.ts';
import { kexecParserHook, verify } from '../../runtime/verifier/index.ts';
import { missingTool } from '../support/env.ts';
import {
  compress,
  type Outcome,
  PAYLOAD_OFFSET,
  runCompiled,
  runNative,
  toolFor,
  zbootCompiled,
  zbootImage,
} from './zboot-support.ts';

/** A kernel-like body: compressible but not trivial. */
const kernelBody = (n: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => ((i >> 3) * 131 + seed + (i % 7 === 0 ? i : 0)) & 255);

const TYPES = Object.keys(ZBOOT_COMPRESSION_TYPES) as ZbootCompressionType[];

const same = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean =>
  a === undefined || b === undefined ? a === b : Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

/** Runs both ways, asserts they agree, returns the outcome. */
const both = async (image: Uint8Array, depth = 0): Promise<Outcome> => {
  const native = await runNative(image, depth);
  const vm = runCompiled(image, depth);
  expect({ ...vm, kernel: undefined }).toEqual({ ...native, kernel: undefined });
  // byte comparison (a deep equal of a 32 MiB array element by element takes minutes)
  expect(same(vm.kernel, native.kernel)).toBe(true);
  expect(native.records).toBe(1);
  return native;
};

const setU32 = (b: Uint8Array, off: number, v: number): Uint8Array => {
  const c = b.slice();
  new DataView(c.buffer).setUint32(off, v, true);
  return c;
};

beforeAll(() => prepareKexecHelpers());

describe('parsers/zboot.ts', () => {
  it('compiles and passes our verifier with the hook’s policy', () => {
    const out = zbootCompiled();
    expect(out.diagnostics).toEqual([]);
    const prog = out.programs[0];
    if (prog === undefined) throw new Error('no program');
    expect(prog.section).toBe('fentry.s/kexec_pe_parser_hook');
    const v = verify(linkedInsns(out, prog), {
      policy: kexecParserHook,
      maps: linkedMaps(out),
      sleepable: true,
      license: out.license,
    });
    expect(v.accepted, v.summary).toBe(true);
  });

  it('restates the ABI and zboot facts exactly as bpf/abi and formats/kernel define them', () => {
    expect([parser.EINVAL, parser.ENOEXEC, parser.EFBIG, parser.ENOMEM, parser.EBADMSG]).toEqual([
      E.EINVAL,
      E.ENOEXEC,
      E.EFBIG,
      E.ENOMEM,
      E.EBADMSG,
    ]);
    expect([parser.MZ, parser.ZIMG, parser.HEADER_SIZE]).toEqual([ZBOOT.MZ, ZBOOT.IMAGE_TYPE, ZBOOT.HEADER_SIZE]);
    expect([parser.OFF_IMAGE_TYPE, parser.OFF_PAYLOAD_OFFSET, parser.OFF_PAYLOAD_SIZE, parser.OFF_COMP_TYPE]).toEqual([
      ZBOOT.OFF_IMAGE_TYPE,
      ZBOOT.OFF_PAYLOAD_OFFSET,
      ZBOOT.OFF_PAYLOAD_SIZE,
      ZBOOT.OFF_COMP_TYPE,
    ]);
    expect([parser.RESULT_SIZE, parser.RESULT_MAGIC, parser.RESULT_VERSION, parser.RESULT_F_KERNEL]).toEqual([
      KEXEC_BPF_RESULT.size,
      KEXEC_BPF_RESULT_MAGIC,
      KEXEC_BPF_RESULT_VERSION,
      KEXEC_BPF_RESULT_F.KERNEL,
    ]);
    const at = (name: string) => fieldOf(KEXEC_BPF_RESULT, name).offset;
    expect([
      parser.RES_MAGIC,
      parser.RES_VERSION,
      parser.RES_FLAGS,
      parser.RES_STATUS,
      parser.RES_DEPTH,
      parser.RES_FORMAT,
      parser.RES_DETAIL,
    ]).toEqual(['magic', 'version', 'flags', 'status', 'depth', 'format', 'detail'].map(at));
  });

  it('refuses an image above IMAGE_MAX with -EFBIG before copying it', async () => {
    const big = new Uint8Array(parser.IMAGE_MAX + 1);
    const o = await both(big);
    expect(o.result).toMatchObject({ status: -E.EFBIG, flags: 0 });
    expect(o.kernel === big || same(o.kernel, big)).toBe(true);
  });

  for (const type of TYPES) {
    it(`decompresses a ${type} payload into the kernel resource (native = compiled)`, async (ctx) => {
      const tool = toolFor(type);
      const why = tool && missingTool(tool);
      if (why) ctx.skip(why);
      const kernel = kernelBody(20000 + type.length * 333, type.length);
      const image = zbootImage(type, compress(type, kernel), { kernelLength: kernel.length, tail: 100 });
      expect(parseZboot(image).compressionType).toBe(type);
      const o = await both(image, 1);
      expect(o.result).toMatchObject({ status: 0, flagNames: ['KERNEL'], depth: 1, format: 'zboot', detail: type });
      expect(o.kernel).toEqual(kernel);
    });
  }

  it('passes the whole zstd payload: the size trailer follows it, nothing is cut off', async (ctx) => {
    const why = missingTool('zstd');
    if (why) ctx.skip(why);
    const kernel = kernelBody(5000, 9);
    const payload = compress('zstd', kernel);
    // the upstream parser handed the decompressor payload size - 4 bytes: that stream is truncated
    const cut = zbootImage('zstd', payload.subarray(0, payload.length - 4), { kernelLength: kernel.length });
    expect((await both(cut)).result?.status).toBe(-E.EBADMSG);
    const whole = zbootImage('zstd', payload, { kernelLength: kernel.length });
    expect((await both(whole)).kernel).toEqual(kernel);
  });

  describe('refuses, with a status and the kernel resource untouched', () => {
    const kernel = kernelBody(3000, 4);
    const good = zbootImage('gzip', compress('gzip', kernel), { kernelLength: kernel.length });
    const size = good.length - PAYLOAD_OFFSET;
    const cases: [string, Uint8Array, number][] = [
      ['no MZ', setU32(good, 0, 0x00005a4e), -E.ENOEXEC],
      ['MZ with junk in bytes 2-3', setU32(good, 0, 0x01005a4d), -E.ENOEXEC],
      ['no zimg', setU32(good, ZBOOT.OFF_IMAGE_TYPE, 0x676d697b), -E.ENOEXEC],
      ['an unknown compression type (bzip2)', setU32(good, ZBOOT.OFF_COMP_TYPE, 0x70697a62), -E.ENOEXEC],
      ['a type string not ended by NUL (gzipx)', setU32(good, ZBOOT.OFF_COMP_TYPE + 4, 0x78), -E.ENOEXEC],
      ['a payload offset inside the header', setU32(good, ZBOOT.OFF_PAYLOAD_OFFSET, 0x20), -E.EINVAL],
      ['a payload past the end', setU32(good, ZBOOT.OFF_PAYLOAD_SIZE, size + 1), -E.EINVAL],
      ['a payload size that wraps 32 bits', setU32(good, ZBOOT.OFF_PAYLOAD_SIZE, 0xffffffff), -E.EINVAL],
      ['a truncated file (header only)', good.slice(0, 0x30), -E.ENOEXEC],
      ['an empty kernel', new Uint8Array(0), -E.ENOEXEC],
      [
        'a payload one byte short (gzip ISIZE is then wrong)',
        setU32(good, ZBOOT.OFF_PAYLOAD_SIZE, size - 1),
        -E.EBADMSG,
      ],
    ];
    for (const [what, image, status] of cases) {
      it(what, async () => {
        const o = await both(image);
        expect(o.result).toMatchObject({ status, flags: 0, format: 'zboot' });
        expect(o.kernel).toEqual(image);
        // formats/kernel agrees that the header is bad wherever the parser refuses it before decompressing
        if (status !== -E.EBADMSG) expect(() => parseZboot(image)).toThrow();
      });
    }

    it('an empty payload (formats/kernel reads such a header; there is nothing to decompress)', async () => {
      const img = setU32(good, ZBOOT.OFF_PAYLOAD_SIZE, 0);
      expect(parseZboot(img).payloadSize).toBe(0);
      expect((await both(img)).result).toMatchObject({ status: -E.EINVAL, flags: 0 });
    });

    it('a zstd image whose trailer is missing (payload runs to the end of the file)', async (ctx) => {
      const why = missingTool('zstd');
      if (why) ctx.skip(why);
      const p = compress('zstd', kernel);
      const img = zbootImage('zstd', p, { kernelLength: kernel.length }).slice(0, PAYLOAD_OFFSET + p.length);
      expect(() => parseZboot(img)).toThrow(/size trailer/);
      expect((await both(img)).result?.status).toBe(-E.EINVAL);
    });

    it('a size trailer that disagrees with the stream: too small -ENOSPC, too large -EBADMSG, zero -EINVAL', async (ctx) => {
      const why = missingTool('zstd');
      if (why) ctx.skip(why);
      const p = compress('zstd', kernel);
      const at = (trailer: number) => zbootImage('zstd', p, { kernelLength: kernel.length, trailer });
      expect((await both(at(kernel.length - 1))).result?.status).toBe(-E.ENOSPC);
      expect((await both(at(kernel.length + 1))).result?.status).toBe(-E.EBADMSG);
      expect((await both(at(0))).result?.status).toBe(-E.EINVAL);
      expect((await both(at(0xffffffff))).result?.status).toBe(-E.EFBIG);
    });

    it('a corrupt payload', async () => {
      const bad = good.slice();
      bad[PAYLOAD_OFFSET + 20] = (bad[PAYLOAD_OFFSET + 20] ?? 0) ^ 0xff;
      expect((await both(bad)).result?.status).toBe(-E.EBADMSG);
    });

    it('a payload of another format than the header names (decompress goes by the magic)', async (ctx) => {
      const why = missingTool('xz');
      if (why) ctx.skip(why);
      // gzip named, xz stored: the helper picks xz from the magic; the xz trailer is read as gzip's ISIZE
      const p = compress('xzkern', kernel);
      const img = zbootImage('gzip', p, { kernelLength: kernel.length });
      const o = await both(img);
      expect(o.result?.status).toBeLessThan(0);
    });
  });
});
