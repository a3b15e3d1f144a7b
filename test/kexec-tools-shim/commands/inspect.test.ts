/**
 * `ukibpf inspect` beyond the PE view (kexec-tools-shim/commands/inspect.ts), run in-process: a UKI built
 * with formats/uki from the Debian stub and kernel with a `.bpf` object and a profile (UKI ranges, text
 * sections, the `.linux` bzImage facts, the programs disassembled as llvm-objdump does), synthetic EFI
 * zboot images of every compression type (alone and as a UKI's `.linux`), and broken parts reported as
 * errors rather than failures.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BpfObjectSpec, writeObject } from '../../../bpf/elf/index.ts';
import { insnNamed as i } from '../../../bpf/isa/index.ts';
import {
  buildZbootHeader,
  parseBzImage,
  ZBOOT_COMPRESSION_TYPES,
  type ZbootCompressionType,
} from '../../../formats/kernel/index.ts';
import { readPe, sectionData } from '../../../formats/pe/index.ts';
import { buildUki } from '../../../formats/uki/index.ts';
import { ExitCode } from '../../../kexec-tools-shim/cli/exit.ts';
import { register } from '../../../kexec-tools-shim/commands/inspect.ts';
import { buildPe } from '../../formats/pe-build.ts';
import { craftUki, enc } from '../../formats/uki-support.ts';
import { cliFailure, commandRunner } from '../../support/cli.ts';
import { findTool, missingTool } from '../../support/env.ts';
import { fixturePath, missingFixture, readFixture } from '../../support/fixtures.ts';

let dir: string;
const path = (name: string): string => join(dir, name);
const run = commandRunner(register, 'inspect');
const json = async (file: string) => JSON.parse(await run(file, '--json'));

/** A parser-shaped program every llvm-objdump 14 instruction name covers (no BPF_ST, which it lacks). */
const parserSpec: BpfObjectSpec = {
  license: 'GPL',
  programs: [
    {
      name: 'parse_mz',
      section: 'xdp',
      insns: [
        i('ldxh', { dst: 2, src: 1, off: 0 }),
        i('jne', { dst: 2, imm: 0x5a4d, off: 3 }, 'K'),
        i('mov', { dst: 1, src: 2 }, 'X'),
        i('call_local', { imm: 3 }),
        i('exit'),
        i('mov', { dst: 0, imm: 0 }, 'K'),
        i('exit'),
      ],
    },
    {
      name: 'is_pe',
      section: 'xdp',
      insns: [i('mov', { dst: 0, src: 1 }, 'X'), i('rsh', { dst: 0, imm: 8 }, 'K'), i('exit')],
    },
  ],
};

/** A PE whose DOS header is an EFI zboot header pointing at its one section's payload + size trailer. */
const zbootImage = (type: ZbootCompressionType, payload: Uint8Array, uncompressed: number): Uint8Array => {
  const trailer = ZBOOT_COMPRESSION_TYPES[type].sizeTrailer;
  const data = new Uint8Array(payload.length + trailer);
  data.set(payload);
  if (trailer) new DataView(data.buffer).setUint32(payload.length, uncompressed, true);
  const pe = buildPe({ sections: [{ name: '.data', data, characteristics: 0x40000040 }] });
  const bytes = pe.bytes;
  const peHeaderOffset = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0x3c, true);
  const raw = pe.at.sections[0]!.raw;
  bytes.set(
    buildZbootHeader({ payloadOffset: raw, payloadSize: payload.length, compressionType: type, peHeaderOffset }),
  );
  return bytes;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ukibpf-inspect-'));
  writeFileSync(path('parser.o'), writeObject(parserSpec));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ukibpf inspect: UKI, .linux and .bpf', () => {
  const buildDebianUki = (): string => {
    const stub = readFixture('stub');
    const profile = buildUki({ stub, profile: enc('ID=rescue\nTITLE=Rescue shell'), cmdline: enc('rescue') });
    const uki = buildUki({
      stub,
      linux: readFixture('kernel'),
      cmdline: enc(`console=ttyS0 root=/dev/vda1 ${'quiet '.repeat(60)}`),
      osRelease: enc('ID=debian\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'),
      uname: enc('6.1.0-test-amd64'),
      sections: [{ name: '.bpf', data: readFileSync(path('parser.o')) }],
      joinProfiles: [profile],
    });
    writeFileSync(path('uki.efi'), uki);
    return path('uki.efi');
  };

  it('--json: sections in table order, UKI ranges and texts, .linux bzImage facts, .bpf programs', async (ctx) => {
    const why = missingFixture('stub', 'kernel');
    if (why) ctx.skip(why);
    const file = buildDebianUki();
    const img = readPe(readFileSync(file));
    const d = await json(file);
    expect(d.sections.map((s: { name: string }) => s.name)).toEqual(img.sections.map((s) => s.name));
    expect(d.kernel).toBeNull(); // the stub's DOS header is neither zboot nor a bzImage
    expect(d.uki.base.sections).toEqual(img.sections.map((s) => s.name).slice(0, -2));
    expect(d.uki.profiles).toEqual([
      {
        index: 0,
        sections: ['.profile', '.cmdline'],
        text: {
          '.cmdline': { size: 6, text: 'rescue' },
          '.profile': { size: 28, text: 'ID=rescue\\nTITLE=Rescue shell' },
        },
      },
    ]);
    const texts = d.uki.base.text;
    expect(texts['.uname']).toEqual({ size: 16, text: '6.1.0-test-amd64' });
    expect(texts['.osrel'].text).toBe('ID=debian\\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"');
    expect(texts['.cmdline'].size).toBe(29 + 360);
    expect(texts['.cmdline'].text).toMatch(/^console=ttyS0 root=\/dev\/vda1 quiet quiet .*…$/);
    expect(texts['.cmdline'].text).toHaveLength(161);

    const kernel = parseBzImage(readFixture('kernel'));
    expect(d.uki.linux.size).toBe(readFixture('kernel').length);
    expect(d.uki.linux.kernel).toMatchObject({
      kind: 'bzImage',
      bzImage: {
        protocol: `2.${(kernel.version & 0xff).toString().padStart(2, '0')}`,
        setupSects: kernel.setupSectsField,
        payloadOffset: kernel.payloadOffset,
        payloadFileOffset: (kernel.setupSectsField + 1) * 512 + kernel.payloadOffset,
        payloadLength: kernel.payloadLength,
        prefAddress: `0x${kernel.prefAddress.toString(16)}`,
        initSize: kernel.initSize,
        xloadflags: kernel.xloadflags,
        kexec64: true,
      },
    });
    // The Debian cloud kernel's payload is lz4 (CONFIG_KERNEL_LZ4 on amd64 cloud).
    expect(d.uki.linux.kernel.bzImage.payloadFormat).toBe('lz4');
    expect(d.uki.linux.kernel.bzImage.xloadflagNames).toContain('XLF_KERNEL_64');

    const bpfSection = img.sections.find((s) => s.name === '.bpf')!;
    expect(d.bpf).toMatchObject({ sectionIndex: bpfSection.index, size: bpfSection.virtualSize, license: 'GPL' });
    expect(
      d.bpf.functions.map((f: { name: string; program: boolean; instructions: number }) => [
        f.name,
        f.program,
        f.instructions,
      ]),
    ).toEqual([
      ['parse_mz', true, 7],
      ['is_pe', true, 3],
    ]);
    expect(d.bpf.functions[0].progType).toBe('BPF_PROG_TYPE_XDP');
  });

  it('prints the same as text, the disassembly matching llvm-objdump -d of the object', async (ctx) => {
    const why = missingFixture('stub', 'kernel') ?? missingTool('llvm-objdump');
    if (why) ctx.skip(why);
    const out = await run(buildDebianUki());
    expect(out).toMatch(/^profile @0: \.profile \.cmdline$/m);
    expect(out).toMatch(/^ {2}\.uname {4}6\.1\.0-test-amd64 \(16 bytes\)$/m);
    expect(out).toMatch(/^\.linux \(\d+ bytes\): bzImage, boot protocol 2\.\d\d, 6\.1\./m);
    expect(out).toMatch(/payload at 0x[0-9a-f]+ \(payload_offset 0x[0-9a-f]+\), \d+ bytes lz4, uncompressed \d+ bytes/);
    expect(out).toMatch(
      /pref_address 0x[0-9a-f]+ {2}init_size 0x[0-9a-f]+ {2}xloadflags 0x[0-9a-f]+ \(.*\) {2}kexec64 yes/,
    );
    expect(out).toMatch(/^parse_mz \(program, SEC\("xdp"\) BPF_PROG_TYPE_XDP, 7 instructions\):$/m);

    const objdump = spawnSync(
      findTool('llvm-objdump') ?? 'llvm-objdump',
      ['-d', '--no-show-raw-insn', path('parser.o')],
      {
        encoding: 'utf8',
      },
    );
    expect(objdump.status).toBe(0);
    // llvm-objdump: "<function>:" headers then "  pc:\ttext" lines; ours: "name (...):" then "  pc: text".
    const theirs = objdump.stdout
      .split('\n')
      .filter((l) => /^\s+\d+:\t/.test(l))
      .map((l) => l.replace(/^\s+(\d+):\t/, '$1: ').trimEnd());
    const ours = out
      .slice(out.indexOf('parse_mz ('))
      .split('\n')
      .filter((l) => /^\s+\d+: /.test(l))
      .map((l) => l.trim());
    expect(ours).toEqual(theirs);
    expect(ours).toHaveLength(10);
  });
});

describe('ukibpf inspect: EFI zboot', () => {
  const original = new Uint8Array(4096).map((_, k) => (k * 7) & 0xff);
  const cases: [ZbootCompressionType, Uint8Array][] = (
    Object.keys(ZBOOT_COMPRESSION_TYPES) as ZbootCompressionType[]
  ).map((type) => [type, type === 'gzip' ? gzipSync(original) : new Uint8Array(100).fill(0x5a)]);

  it.each(cases)('%s: compression type, payload offset and size, the uncompressed size', async (type, payload) => {
    const file = path(`zboot-${type}.efi`);
    const bytes = zbootImage(type, payload, 123456);
    writeFileSync(file, bytes);
    const d = await json(file);
    const raw = readPe(bytes).sections[0]!.pointerToRawData;
    const trailer = ZBOOT_COMPRESSION_TYPES[type].sizeTrailer;
    expect(d.sections.map((s: { name: string }) => s.name)).toEqual(['.data']);
    expect(d.kernel).toEqual({
      kind: 'zboot',
      zboot: {
        compressionType: type,
        format: ZBOOT_COMPRESSION_TYPES[type].format,
        payloadOffset: raw,
        payloadSize: payload.length,
        sizeTrailer: trailer,
        // gzip carries no trailer: the size is its own ISIZE.
        uncompressedSize: trailer ? 123456 : original.length,
        peHeaderOffset: new DataView(bytes.buffer).getUint32(0x3c, true),
        linuxPeMagic: true,
      },
    });
    expect(d.uki).toBeNull();
    expect(d.bpf).toBeNull();
    expect(await run(file)).toContain(
      `kernel: EFI zboot, ${type} (${ZBOOT_COMPRESSION_TYPES[type].format}) payload at 0x${raw.toString(16)}, ${payload.length} bytes, uncompressed ${trailer ? 123456 : 4096} bytes`,
    );
  });

  it("shows a UKI's zboot .linux, and reports broken parts as errors with exit 0", async () => {
    const zboot = zbootImage('zstd', new Uint8Array(64).fill(1), 999);
    const broken = new Uint8Array(zboot);
    broken.set(enc('zstd99\0'), 0x18);
    const file = path('zboot-uki.efi');
    writeFileSync(
      file,
      craftUki([
        { name: '.linux', data: zboot },
        { name: '.cmdline', data: 'quiet' },
        { name: '.bpf', data: new Uint8Array(32).fill(0xee) },
      ]),
    );
    const d = await json(file);
    expect(d.uki.linux.kernel.zboot).toMatchObject({ compressionType: 'zstd', uncompressedSize: 999, payloadSize: 64 });
    expect(d.uki.base.text['.cmdline']).toEqual({ size: 5, text: 'quiet' });
    expect(d.bpf.error).toMatchObject({ code: expect.any(String), offset: expect.any(Number) });
    expect(await run(file)).toMatch(/^\.bpf \(section 3, 32 bytes\): /m);

    writeFileSync(path('broken.efi'), broken);
    const b = await json(path('broken.efi'));
    expect(b.kernel).toMatchObject({ kind: 'zboot', error: { code: 'BAD_COMPRESSION_TYPE', offset: 0x18 } });
    expect(await run(path('broken.efi'))).toMatch(/kernel \(zboot\): kernel image: unknown compression type "zstd99"/);
    // The section data of the zboot kernel is what the UKI view read.
    const uki = readPe(readFileSync(file));
    expect(Buffer.compare(sectionData(uki, uki.sections[1]!), zboot)).toBe(0);
  });

  it('fails with BAD_INPUT only when the PE itself is malformed', async () => {
    writeFileSync(path('short.efi'), zbootImage('gzip', gzipSync(enc('x')), 1).subarray(0, 0x50));
    expect((await cliFailure(() => run(path('short.efi')))).exitCode).toBe(ExitCode.BAD_INPUT);
  });
});

// The Debian kernel as an image of its own: the EFI-stub bzImage's facts under `kernel`.
describe('ukibpf inspect: a bzImage kernel', () => {
  it('reports the setup header of the Debian vmlinuz', async (ctx) => {
    const why = missingFixture('kernel');
    if (why) ctx.skip(why);
    const d = await json(fixturePath('kernel'));
    expect(d.kernel).toMatchObject({
      kind: 'bzImage',
      bzImage: { kexec64: true, efiStub: true, payloadFormat: 'lz4' },
    });
    expect(d.uki).toBeNull();
    expect(d.signatures.length).toBeGreaterThan(0);
  });
});
