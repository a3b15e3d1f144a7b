import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  COMPRESSION_FORMATS,
  type CompressionFormat,
  DECOMPRESS_ERROR,
  DecompressError,
  decompress,
  decompressMethod,
  decompressSync,
  prepareDecompressors,
} from '../../formats/decompress/index.ts';
import { missingTool } from '../support/env.ts';

/** How the kernel's build (or its usual packer) compresses with each CLI. */
const CLI: Record<CompressionFormat, { tool: string; args: string[] }> = {
  gzip: { tool: 'gzip', args: ['-9', '-n', '-c'] },
  bzip2: { tool: 'bzip2', args: ['-9', '-c'] },
  lzma: { tool: 'lzma', args: ['-9', '-c'] },
  xz: { tool: 'xz', args: ['--format=xz', '--check=crc32', '--x86', '--lzma2', '-c'] },
  lzo: { tool: 'lzop', args: ['-9', '-c'] },
  lz4: { tool: 'lz4', args: ['-l', '-9', '-c'] },
  zstd: { tool: 'zstd', args: ['-19', '-c'] },
};

const run = (tool: string, args: string[], input: Uint8Array): Uint8Array => {
  const r = spawnSync(tool, args, { input, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')}: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
};

/** Kernel-like test data: x86-ish code bytes, zero runs, text, and incompressible stretches, deterministic. */
const kernelLike = (size: number, seed = 1): Uint8Array => {
  const out = new Uint8Array(size);
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 16;
  };
  const text = new TextEncoder().encode('kernel: initramfs unpacking failed: junk in compressed archive\n');
  for (let at = 0; at < size; ) {
    const kind = rnd() % 4;
    const n = Math.min(size - at, 64 + (rnd() % 4096));
    for (let i = 0; i < n; i++) {
      out[at + i] =
        kind === 0
          ? 0
          : kind === 1
            ? text[(at + i) % text.length]!
            : kind === 2
              ? rnd() & 0xff
              : (0xe8 + (i % 7) * (rnd() & 3)) & 0xff;
    }
    at += n;
  }
  return out;
};

const DATA = kernelLike(600_000);
const compressed = new Map<CompressionFormat, Uint8Array>();
const cliOf = (f: CompressionFormat): Uint8Array => {
  let c = compressed.get(f);
  if (!c) {
    c = run(CLI[f].tool, CLI[f].args, DATA);
    compressed.set(f, c);
  }
  return c;
};

const expectCode = (fn: () => unknown, code: string): DecompressError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DecompressError);
    expect((e as DecompressError).code).toBe(code);
    return e as DecompressError;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
};

beforeAll(async () => {
  await prepareDecompressors();
});

describe('format selection (the kernel decompress_method table)', () => {
  it('maps each 2-byte magic like lib/decompress.c, including 1f 9e', () => {
    const cases: [number[], CompressionFormat | undefined][] = [
      [[0x1f, 0x8b], 'gzip'],
      [[0x1f, 0x9e], 'gzip'],
      [[0x42, 0x5a], 'bzip2'],
      [[0x5d, 0x00], 'lzma'],
      [[0xfd, 0x37], 'xz'],
      [[0x89, 0x4c], 'lzo'],
      [[0x02, 0x21], 'lz4'],
      [[0x28, 0xb5], 'zstd'],
      [[0x30, 0x37], undefined],
      [[0x1f], undefined],
    ];
    for (const [bytes, want] of cases) expect(decompressMethod(new Uint8Array(bytes))).toBe(want);
  });
  it('rejects unknown magic with UNKNOWN_FORMAT at offset 0', () => {
    const e = expectCode(
      () => decompressSync(new Uint8Array([0x30, 0x37, 0x30]), { maxOutput: 10 }),
      DECOMPRESS_ERROR.UNKNOWN_FORMAT,
    );
    expect(e.offset).toBe(0);
  });
  it('rejects old-style gzip (1f 9e), which the kernel selects but cannot inflate', () => {
    expectCode(
      () => decompressSync(new Uint8Array([0x1f, 0x9e, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2]), { maxOutput: 10 }),
      DECOMPRESS_ERROR.UNSUPPORTED,
    );
  });
});

describe.each(COMPRESSION_FORMATS)('%s against its CLI', (format) => {
  const { tool } = CLI[format];
  it(`decodes what ${tool} writes, byte for byte, and ${tool} -dc agrees`, (ctx) => {
    const why = missingTool(tool);
    if (why) ctx.skip(why);
    const c = cliOf(format);
    const r = decompressSync(c, { maxOutput: DATA.length });
    expect(r.format).toBe(format);
    expect(r.consumed).toBe(c.length);
    expect(Buffer.from(r.data).equals(Buffer.from(DATA))).toBe(true);
    expect(Buffer.from(run(tool, ['-dc'], c)).equals(Buffer.from(r.data))).toBe(true);
  });
  it('fails with OUTPUT_LIMIT one byte under the output size', (ctx) => {
    const why = missingTool(tool);
    if (why) ctx.skip(why);
    expectCode(() => decompressSync(cliOf(format), { maxOutput: DATA.length - 1 }), DECOMPRESS_ERROR.OUTPUT_LIMIT);
  });
  it('detects truncation at several points with a typed error', (ctx) => {
    const why = missingTool(tool);
    if (why) ctx.skip(why);
    const c = cliOf(format);
    for (const cut of [1, 2, 7, 40, Math.floor(c.length / 2), c.length - 9, c.length - 1]) {
      try {
        const r = decompressSync(c.subarray(0, cut), { maxOutput: DATA.length, format });
        // lz4's legacy frame has no end marker: a cut on a block boundary is a shorter valid stream.
        expect(format).toBe('lz4');
        expect(r.data.length).toBeLessThan(DATA.length);
      } catch (e) {
        expect(e).toBeInstanceOf(DecompressError);
        // lz4 (like the kernel) ends the stream when fewer than 4 bytes are left; they are then trailing data.
        const allowed = format === 'lz4' ? ['TRUNCATED', 'CORRUPT', 'TRAILING_DATA'] : ['TRUNCATED', 'CORRUPT'];
        expect(allowed).toContain((e as DecompressError).code);
      }
    }
  });
  it('rejects trailing junk by default and reports the stream length with trailing: allow', (ctx) => {
    const why = missingTool(tool);
    if (why) ctx.skip(why);
    const c = cliOf(format);
    const junk = new Uint8Array([...c, 0x30, 0x37, 0x30, 0x37, 0x30, 0x31]);
    if (format === 'lz4') {
      // The junk reads as a block size, which is too large: the legacy frame cannot tell junk from data.
      expectCode(() => decompressSync(junk, { maxOutput: DATA.length }), DECOMPRESS_ERROR.CORRUPT);
      const padded = new Uint8Array([...c, 0, 0, 0, 0, 0x30, 0x37]);
      const r = decompressSync(padded, { maxOutput: DATA.length, trailing: 'allow' });
      expect(r.consumed).toBe(c.length);
      return;
    }
    const e = expectCode(() => decompressSync(junk, { maxOutput: DATA.length }), DECOMPRESS_ERROR.TRAILING_DATA);
    expect(e.offset).toBe(c.length);
    const r = decompressSync(junk, { maxOutput: DATA.length, trailing: 'allow' });
    expect(r.consumed).toBe(c.length);
    expect(r.data.length).toBe(DATA.length);
  });
  it('checks the kernel build size trailer', (ctx) => {
    const why = missingTool(tool);
    if (why) ctx.skip(why);
    const c = cliOf(format);
    const size = new Uint8Array(4);
    new DataView(size.buffer).setUint32(0, DATA.length, true);
    const withSize = format === 'gzip' ? c : new Uint8Array([...c, ...size]);
    expect(decompressSync(withSize, { maxOutput: DATA.length, sizeTrailer: true }).consumed).toBe(withSize.length);
    if (format === 'gzip') return;
    const wrong = new Uint8Array(withSize);
    wrong[wrong.length - 4] = wrong[wrong.length - 4]! ^ 1;
    expectCode(
      () => decompressSync(wrong, { maxOutput: DATA.length, sizeTrailer: true }),
      DECOMPRESS_ERROR.BAD_SIZE_TRAILER,
    );
  });
  it('stops a bomb (32 MiB of zeros) at a 1 MiB cap', (ctx) => {
    const why = missingTool(tool);
    if (why) ctx.skip(why);
    const fast =
      format === 'xz'
        ? ['--format=xz', '--check=crc32', '-0', '-c']
        : format === 'lzma'
          ? ['-0', '-c']
          : CLI[format].args.map((a) => (a === '-9' || a === '-19' ? '-1' : a));
    const bomb = run(tool, fast, new Uint8Array(32 << 20));
    const t = performance.now();
    expectCode(() => decompressSync(bomb, { maxOutput: 1 << 20 }), DECOMPRESS_ERROR.OUTPUT_LIMIT);
    expect(performance.now() - t).toBeLessThan(5000);
  });
});

describe('decompress (async) and bzip2 loading', () => {
  it('decompress() loads bzip2 by itself', async (ctx) => {
    const why = missingTool('bzip2');
    if (why) ctx.skip(why);
    const r = await decompress(cliOf('bzip2'), { maxOutput: DATA.length });
    expect(r.data.length).toBe(DATA.length);
  });
  it('decodes an empty gzip and an empty zstd frame', (ctx) => {
    const why = missingTool('gzip', 'zstd');
    if (why) ctx.skip(why);
    expect(decompressSync(run('gzip', ['-c'], new Uint8Array(0)), { maxOutput: 0 }).data.length).toBe(0);
    expect(decompressSync(run('zstd', ['-c'], new Uint8Array(0)), { maxOutput: 0 }).data.length).toBe(0);
  });
});

describe('fuzz: mutated real streams give data or a DecompressError, never anything else', () => {
  it('survives byte flips, truncations and splices in every format', (ctx) => {
    const why = missingTool(...COMPRESSION_FORMATS.map((f) => CLI[f].tool));
    if (why) ctx.skip(why);
    const small = kernelLike(20_000, 7);
    const seeds = COMPRESSION_FORMATS.map((f) => run(CLI[f].tool, CLI[f].args, small));
    fc.assert(
      fc.property(
        fc.nat(seeds.length - 1),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.boolean(),
        (which, flips, cut, truncate) => {
          const s = seeds[which]!;
          const m = new Uint8Array(s);
          for (const [at, v] of flips) m[at % m.length] = v;
          const input = truncate ? m.subarray(0, cut % (m.length + 1)) : m;
          try {
            const r = decompressSync(input, { maxOutput: 1 << 20, trailing: 'allow' });
            expect(r.data.length).toBeLessThanOrEqual(1 << 20);
          } catch (e) {
            if (!(e instanceof DecompressError)) throw e;
          }
        },
      ),
      { numRuns: 400, seed: 20261122 },
    );
  });
});
