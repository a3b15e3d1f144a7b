/** The program identity the kernel checks: the same for the signed object and the loaded program, and nothing else. */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assembleUbpf } from '../../../bpf/asm/ubpf/index.ts';
import { writeObject } from '../../../bpf/elf/index.ts';
import { toSlots } from '../../../bpf/isa/index.ts';
import {
  expectedPrograms,
  Kernel,
  loadedDigest,
  loadParser,
  programDigest,
  SectionObjectError,
} from '../../../runtime/kernel/index.ts';
import { parserObject, tempDir } from './support.ts';

const tmp = tempDir();
afterAll(() => tmp.remove());

const digestOf = (obj: Uint8Array): string => {
  const [p, ...more] = expectedPrograms(obj);
  expect(more).toEqual([]);
  return p?.digest ?? '';
};

describe('expectedPrograms', () => {
  it('is stable and tells apart code, constants and global data', () => {
    const base = digestOf(parserObject(512, 100));
    expect(digestOf(parserObject(512, 100))).toBe(base);
    expect(digestOf(parserObject(512, 101))).not.toBe(base);
    expect(digestOf(parserObject(512, 100, { tag: 2 }))).not.toBe(base);
    expect(digestOf(parserObject(512, 100, { rodata: new Uint8Array(Buffer.from('kernel\0\x01')) }))).not.toBe(base);
  });

  it('hashes a global-data map given as no bytes as its zeros, and sees one byte written anywhere in it', () => {
    const slots = assembleUbpf('mov %r0, 0\nexit').insns.flatMap(toSlots);
    const size = (3 << 16) + 5; // three whole chunks and a partial one
    const digest = (data: Uint8Array) =>
      programDigest({ slots, maps: [{ type: 2, keySize: 4, valueSize: size, maxEntries: 1, flags: 0, data }] });
    const untouched = digest(new Uint8Array(0));
    expect(digest(new Uint8Array(size))).toBe(untouched);
    expect(digest(new Uint8Array(1 << 16))).toBe(untouched);
    for (const at of [0, (1 << 16) + 7, size - 1]) {
      const written = new Uint8Array(size);
      written[at] = 1;
      expect(digest(written)).not.toBe(untouched);
    }
  });

  it('names objects it cannot use', () => {
    expect(() => expectedPrograms(new Uint8Array(64))).toThrow(SectionObjectError);
    const xdpOnly = writeObject({
      license: 'GPL',
      programs: [{ name: 'p', section: 'xdp', insns: assembleUbpf('mov %r0, 0\nexit').insns }],
    });
    expect(() => expectedPrograms(xdpOnly)).toThrow(/no program for fentry\.s\/kexec_pe_parser_hook/);
  });

  it("gives the loaded program (maps by fd) the object's digest (maps by index)", async () => {
    const kernel = await Kernel.create({ procRoot: join(tmp.dir, 'proc'), sigPolicy: 'off' });
    try {
      const obj = parserObject(1024, 2048);
      const loaded = loadParser(kernel, obj);
      if (!('progFd' in loaded)) throw new Error(`${loaded.message}\n${loaded.log}`);
      const prog = kernel.objects.get(loaded.progFd);
      expect(prog?.kind).toBe('prog');
      if (prog?.kind === 'prog') expect(loadedDigest(prog)).toBe(digestOf(obj));
    } finally {
      kernel.shutdown();
    }
  });
});
