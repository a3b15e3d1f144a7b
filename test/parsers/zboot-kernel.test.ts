/**
 * End to end in the simulated kernel: a signed EFI zboot PE whose `.bpf` section carries the compiled
 * parsers/zboot.ts goes through kexec_file_load with a loader doing the handshake (in the test's
 * thread); the kimage's kernel is the decompressed payload.
 */
import { closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { E } from '../../bpf/abi/index.ts';
import { writeElf } from '../../compiler/index.ts';
import { buildZbootHeader, parseZboot, type ZbootCompressionType } from '../../formats/kernel/index.ts';
import { findSection, readPe, upsertSection } from '../../formats/pe/index.ts';
import { closeRawFd, eventfdCreate, KEXEC_FILE, Kernel } from '../../runtime/kernel/index.ts';
import { buildPe } from '../formats/pe-build.ts';
import { closeLoaded, inThreadLoader, openRead, sign, synthArm64Image, tempDir } from '../runtime/kernel/support.ts';
import { missingTool } from '../support/env.ts';
import { testKeys } from '../support/fixtures.ts';
import { compress, sizeTrailer, zbootCompiled } from './zboot-support.ts';

const tmp = tempDir();
afterAll(() => tmp.remove());

/**
 * An unsigned zboot PE: the zboot header over the DOS header, the payload and its trailer in `.data`
 * (placed first, so the payload offset does not depend on the object), then `.bpf` added with
 * formats/pe's upsertSection.
 */
const zbootPe = (type: ZbootCompressionType, kernel: Uint8Array, bpf: Uint8Array, trailer = kernel.length) => {
  const payload = compress(type, kernel);
  const t = sizeTrailer(type);
  const data = new Uint8Array(payload.length + t);
  data.set(payload);
  if (t) new DataView(data.buffer).setUint32(payload.length, trailer, true);
  const pe = buildPe({ sections: [{ name: '.data', data, characteristics: 0xc0000040 }] }).bytes;
  const img = readPe(pe);
  const s = findSection(img, '.data');
  if (s === undefined) throw new Error('no .data');
  const header = buildZbootHeader({
    payloadOffset: s.pointerToRawData,
    payloadSize: payload.length,
    compressionType: type,
    peHeaderOffset: new DataView(pe.buffer).getUint32(0x3c, true),
  });
  pe.set(header);
  return upsertSection(pe, { name: '.bpf', data: bpf });
};

let n = 0;
const load = async (image: Uint8Array) => {
  const kernel = await Kernel.create({
    procRoot: join(tmp.dir, `proc${n}`),
    keyrings: { builtin: [testKeys().rsa.cert] },
    sigPolicy: 'kexec_sig_force',
    handshakeTimeoutMs: 20_000,
    arch: 'arm64', // zboot carries arm64 / RISC-V / LoongArch kernels
  });
  const a = eventfdCreate();
  const b = eventfdCreate();
  const path = join(tmp.dir, `image${n++}`);
  writeFileSync(path, image);
  const fd = openRead(path);
  try {
    expect(kernel.registerLoader({ eventA: a, eventB: b })).toBe(0);
    const l = inThreadLoader(kernel, a, b);
    const errno = await kernel.kexecFileLoad({
      kernelFd: fd,
      initrdFd: -1,
      cmdline: 'quiet',
      flags: KEXEC_FILE.NO_INITRAMFS,
    });
    l.stop();
    const stages = await l.done;
    closeLoaded(kernel, stages);
    return { errno, stages, kimage: kernel.kimage(), dmesg: kernel.dmesg().join('\n') };
  } finally {
    closeSync(fd);
    closeRawFd(a);
    closeRawFd(b);
    kernel.shutdown();
  }
};

describe('parsers/zboot.ts in the simulated kernel', () => {
  const bpf = writeElf(zbootCompiled());
  const arm64 = synthArm64Image(Uint8Array.from({ length: 40000 }, (_, i) => (i * 7 + (i >> 9)) & 255));

  for (const type of ['gzip', 'zstd'] as const) {
    it(`kexec_file_load of a signed ${type} zboot PE: the kimage's kernel is the decompressed payload`, async (ctx) => {
      const why = type === 'zstd' ? missingTool('zstd') : undefined;
      if (why) ctx.skip(why);
      const image = sign(zbootPe(type, arm64, bpf));
      expect(parseZboot(image).compressionType).toBe(type);
      const r = await load(image);
      expect(
        r.stages.every((s) => typeof s !== 'string'),
        String(r.stages[0]),
      ).toBe(true);
      expect(r.errno, r.dmesg).toBe(0);
      expect(r.kimage?.kernel).toEqual(arm64);
      expect(r.kimage?.stages.map((s) => s.depth)).toEqual([0]);
    });
  }

  it('a zboot PE whose trailer disagrees with its payload fails with the parser’s status', async (ctx) => {
    const why = missingTool('zstd');
    if (why) ctx.skip(why);
    const r = await load(sign(zbootPe('zstd', arm64, bpf, arm64.length + 8)));
    expect(r.errno, r.dmesg).toBe(-E.EBADMSG);
    expect(r.kimage).toBeUndefined();
  });
});
