import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decompressSync } from '../../formats/decompress/index.ts';
import {
  buildZbootHeader,
  detectKernelImage,
  KERNEL_IMAGE_ERROR,
  KernelImageError,
  parseArm64Image,
  parseBzImage,
  parseElfIdent,
  parseZboot,
  SETUP_HEADER,
  ZBOOT,
  ZBOOT_COMPRESSION_TYPES,
  type ZbootCompressionType,
} from '../../formats/kernel/index.ts';
import { REPO_ROOT } from '../support/clang.ts';

const expectKernelError = (fn: () => unknown, code: string, offset?: number): void => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KernelImageError);
    expect((e as KernelImageError).code).toBe(code);
    if (offset !== undefined) expect((e as KernelImageError).offset).toBe(offset);
    return;
  }
  throw new Error(`expected ${code}`);
};

const DEBIAN_BOOT = join(REPO_ROOT, '.cache/fixtures/debian/linux-image-cloud-amd64/boot');
const debianKernel = (): string | undefined => {
  if (!existsSync(DEBIAN_BOOT)) return undefined;
  const f = readdirSync(DEBIAN_BOOT).find((n) => n.startsWith('vmlinuz-'));
  return f ? join(DEBIAN_BOOT, f) : undefined;
};

describe('EFI zboot header', () => {
  it('knows every compression type string the kernel has written', () => {
    expect(Object.keys(ZBOOT_COMPRESSION_TYPES).sort()).toEqual([
      'gzip',
      'lz4',
      'lzma',
      'lzo',
      'xzkern',
      'zstd',
      'zstd22',
    ]);
  });
  it.each(Object.keys(ZBOOT_COMPRESSION_TYPES) as ZbootCompressionType[])('builds and parses a %s image', (type) => {
    const payload = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const trailer = ZBOOT_COMPRESSION_TYPES[type].sizeTrailer;
    const head = buildZbootHeader({
      payloadOffset: 0x1000,
      payloadSize: payload.length,
      compressionType: type,
      peHeaderOffset: 0x40,
    });
    expect(head.length).toBe(64);
    expect(Buffer.from(head.subarray(0, 8)).toString('latin1')).toBe('MZ\0\0zimg');
    const file = new Uint8Array(0x1000 + payload.length + trailer);
    file.set(head);
    file.set(payload, 0x1000);
    if (trailer) new DataView(file.buffer).setUint32(0x1000 + payload.length, 12345, true);
    const z = parseZboot(file);
    expect(z).toMatchObject({
      payloadOffset: 0x1000,
      payloadSize: 8,
      compressionType: type,
      peHeaderOffset: 0x40,
      linuxPeMagic: true,
    });
    expect(z.uncompressedSize).toBe(trailer ? 12345 : new DataView(payload.buffer).getUint32(4, true));
    expect(detectKernelImage(file)).toBe('zboot');
    if (trailer)
      expectKernelError(
        () => parseZboot(file.subarray(0, file.length - 1)),
        KERNEL_IMAGE_ERROR.PAYLOAD_OUT_OF_FILE,
        ZBOOT.OFF_PAYLOAD_OFFSET,
      );
  });
  it('rejects bad magics, unknown or unterminated type strings and truncation', () => {
    const ok = new Uint8Array(0x200);
    ok.set(buildZbootHeader({ payloadOffset: 0x100, payloadSize: 4, compressionType: 'gzip', peHeaderOffset: 0x40 }));
    const bad = (mut: (b: Uint8Array) => void) => {
      const b = new Uint8Array(ok);
      mut(b);
      return b;
    };
    expectKernelError(() => parseZboot(bad((b) => (b[4] = 0x41))), KERNEL_IMAGE_ERROR.BAD_MAGIC, 4);
    expectKernelError(
      () => parseZboot(bad((b) => b.set([0x78, 0x7a, 0], 0x18))),
      KERNEL_IMAGE_ERROR.BAD_COMPRESSION_TYPE,
      0x18,
    );
    expectKernelError(
      () => parseZboot(bad((b) => b.fill(0x41, 0x18, 0x38))),
      KERNEL_IMAGE_ERROR.BAD_COMPRESSION_TYPE,
      0x18,
    );
    expectKernelError(() => parseZboot(ok.subarray(0, 0x30)), KERNEL_IMAGE_ERROR.TRUNCATED);
    expectKernelError(
      () => buildZbootHeader({ payloadOffset: -1, payloadSize: 0, compressionType: 'gzip', peHeaderOffset: 0 }),
      KERNEL_IMAGE_ERROR.FIELD_RANGE,
    );
  });
});

/** A minimal bzImage: setup sectors, a setup header, and a payload with the build's size trailer. */
const synthBzImage = (payload: Uint8Array, opts: { version?: number; setupSects?: number } = {}): Uint8Array => {
  const setupSects = opts.setupSects ?? 4;
  const pm = ((setupSects || 4) + 1) * 512;
  const f = new Uint8Array(pm + 0x100 + payload.length);
  const v = new DataView(f.buffer);
  f[SETUP_HEADER.setup_sects] = setupSects;
  v.setUint16(SETUP_HEADER.boot_flag, 0xaa55, true);
  f.set([0x48, 0x64, 0x72, 0x53], SETUP_HEADER.header);
  v.setUint16(SETUP_HEADER.version, opts.version ?? 0x020f, true);
  f[SETUP_HEADER.loadflags] = 1;
  v.setUint16(SETUP_HEADER.xloadflags, 3, true);
  v.setUint32(SETUP_HEADER.payload_offset, 0x100, true);
  v.setUint32(SETUP_HEADER.payload_length, payload.length, true);
  v.setBigUint64(SETUP_HEADER.pref_address, 0x1000000n, true);
  v.setUint32(SETUP_HEADER.init_size, 0x345000, true);
  f.set(payload, pm + 0x100);
  return f;
};

describe('x86 bzImage setup header', () => {
  it('reads the fields and locates the payload of a synthetic image', () => {
    const payload = new Uint8Array([0x1f, 0x8b, 9, 9, 0x10, 0, 0, 0]);
    const h = parseBzImage(synthBzImage(payload));
    expect(h).toMatchObject({
      version: 0x20f,
      setupSects: 4,
      protectedModeOffset: 2560,
      isBzImage: true,
      kexec64: true,
      payloadFileOffset: 2816,
    });
    expect(h.prefAddress).toBe(0x1000000n);
    expect(h.initSize).toBe(0x345000);
    expect(h.uncompressedSize).toBe(16);
    expect(parseBzImage(synthBzImage(payload, { setupSects: 0 })).setupSects).toBe(4);
  });
  it('rejects a missing 0xAA55, a missing HdrS, protocols before 2.08 and payloads outside the file', () => {
    const p = new Uint8Array(16);
    const f = synthBzImage(p);
    const mut = (at: number, v: number) => {
      const b = new Uint8Array(f);
      b[at] = v;
      return b;
    };
    expectKernelError(() => parseBzImage(mut(0x1fe, 0)), KERNEL_IMAGE_ERROR.BAD_MAGIC, 0x1fe);
    expectKernelError(() => parseBzImage(mut(0x202, 0)), KERNEL_IMAGE_ERROR.BAD_MAGIC, 0x202);
    expectKernelError(() => parseBzImage(synthBzImage(p, { version: 0x0207 })), KERNEL_IMAGE_ERROR.OLD_PROTOCOL, 0x206);
    expectKernelError(() => parseBzImage(f.subarray(0, f.length - 1)), KERNEL_IMAGE_ERROR.PAYLOAD_OUT_OF_FILE, 0x248);
    expectKernelError(() => parseBzImage(f.subarray(0, 0x100)), KERNEL_IMAGE_ERROR.TRUNCATED);
  });
  it('parses the Debian cloud kernel and its lz4 payload decompresses to the x86_64 vmlinux the trailer announces', (ctx) => {
    const path = debianKernel();
    if (!path) ctx.skip('needs the Debian kernel fixture (scripts/fixtures.sh)');
    const file = readFileSync(path!);
    const h = parseBzImage(file);
    expect(h.version).toBeGreaterThanOrEqual(0x020f);
    expect(h.kexec64).toBe(true);
    expect(h.efiStub).toBe(true);
    expect(h.kernelVersion).toMatch(/^\d+\.\d+\.\d+-\d+-cloud-amd64 /);
    expect(detectKernelImage(file)).toBe('bzImage');
    const out = decompressSync(h.payload, { maxOutput: 256 << 20, sizeTrailer: true });
    expect(out.data.length).toBe(h.uncompressedSize);
    expect(parseElfIdent(out.data)).toMatchObject({ class: 64, endian: 'le', type: 2, machineName: 'x86_64' });
    expect(h.initSize).toBeGreaterThanOrEqual(out.data.length);
  });
  it('fuzz: mutated Debian setup headers give a header or a KernelImageError', (ctx) => {
    const path = debianKernel();
    const base = path ? new Uint8Array(readFileSync(path).subarray(0, 64 << 10)) : synthBzImage(new Uint8Array(64));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0x1f0, max: 0x270 }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(),
        (flips, cut) => {
          const b = new Uint8Array(base.subarray(0, Math.max(0x1f0, cut % (base.length + 1))));
          for (const [at, v] of flips) if (at < b.length) b[at] = v;
          for (const parse of [parseBzImage, parseZboot, parseArm64Image, parseElfIdent]) {
            try {
              parse(b);
            } catch (e) {
              if (!(e instanceof KernelImageError)) throw e;
            }
          }
        },
      ),
      { numRuns: 500, seed: 5 },
    );
    if (!path) ctx.skip('ran on a synthetic image only: the Debian kernel fixture is missing');
  });
});

describe('arm64 Image header and ELF detection', () => {
  const image = (flags: bigint, imageSize = 0x2000000n) => {
    const b = new Uint8Array(64);
    const v = new DataView(b.buffer);
    b.set([0x4d, 0x5a], 0);
    v.setBigUint64(8, 0x1000n, true);
    v.setBigUint64(16, imageSize, true);
    v.setBigUint64(24, flags, true);
    v.setUint32(0x38, 0x644d5241, true);
    v.setUint32(0x3c, 0x40, true);
    return b;
  };
  it('reads text_offset, image_size, page size, endianness and placement', () => {
    const h = parseArm64Image(image(0b1010n));
    expect(h).toMatchObject({
      textOffset: 0x1000n,
      imageSize: 0x2000000n,
      bigEndian: false,
      pageSize: 4096,
      physPlacementAnywhere: true,
      peHeaderOffset: 0x40,
      efiStub: true,
    });
    expect(parseArm64Image(image(0b110n)).pageSize).toBe(65536);
    expect(parseArm64Image(image(1n, 0n)).textOffset).toBe(0x80000n);
    expect(detectKernelImage(image(0n))).toBe('arm64-image');
    const noMagic = image(0n);
    noMagic[0x38] = 0;
    expectKernelError(() => parseArm64Image(noMagic), KERNEL_IMAGE_ERROR.BAD_MAGIC, 0x38);
    expectKernelError(() => parseArm64Image(image(0n).subarray(0, 0x3a)), KERNEL_IMAGE_ERROR.TRUNCATED);
  });
  it('identifies ELF files (this Node binary) and rejects others', () => {
    const node = new Uint8Array(readFileSync(process.execPath).subarray(0, 64));
    expect(parseElfIdent(node)).toMatchObject({ class: 64, endian: 'le', type: expect.any(Number) });
    expect(detectKernelImage(node)).toBe('elf');
    expectKernelError(
      () => parseElfIdent(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 3, 1, ...new Uint8Array(14)])),
      KERNEL_IMAGE_ERROR.BAD_MAGIC,
      4,
    );
    expectKernelError(() => parseElfIdent(new Uint8Array(8)), KERNEL_IMAGE_ERROR.BAD_MAGIC, 0);
    expectKernelError(() => parseElfIdent(node.subarray(0, 12)), KERNEL_IMAGE_ERROR.TRUNCATED);
  });
});
