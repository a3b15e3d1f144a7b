/**
 * decompressInto (formats/decompress): output into a caller's buffer, as bpf_helper_decompress fills its
 * destination. Checked against what each CLI wrote and against decompressSync: the same bytes, the same
 * errors (code and offset), the cap being the destination's length, bytes past the output untouched.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COMPRESSION_FORMATS,
  type CompressionFormat,
  DECOMPRESS_ERROR,
  DecompressError,
  decompressInto,
  decompressSync,
  prepareDecompressors,
} from '../../formats/decompress/index.ts';
import { missingTool } from '../support/env.ts';

const CLI: Record<CompressionFormat, { tool: string; args: string[] }> = {
  gzip: { tool: 'gzip', args: ['-6', '-n', '-c'] },
  bzip2: { tool: 'bzip2', args: ['-9', '-c'] },
  lzma: { tool: 'lzma', args: ['-6', '-c'] },
  xz: { tool: 'xz', args: ['--format=xz', '--check=crc32', '--x86', '--lzma2', '-c'] },
  lzo: { tool: 'lzop', args: ['-9', '-c'] },
  lz4: { tool: 'lz4', args: ['-l', '-9', '-c'] },
  zstd: { tool: 'zstd', args: ['-9', '-c'] },
};

const run = (tool: string, args: string[], input?: Uint8Array): Uint8Array => {
  const r = spawnSync(tool, args, { input, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')}: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
};

/** Text, zero runs, pseudo-random and repeated stretches: compressible but not trivially. */
const sample = (size: number, seed: number): Uint8Array => {
  const out = new Uint8Array(size);
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 16;
  };
  for (let at = 0; at < size; ) {
    const kind = rnd() % 3;
    const n = Math.min(size - at, 32 + (rnd() % 2048));
    for (let i = 0; i < n; i++) out[at + i] = kind === 0 ? 0 : kind === 1 ? 0x41 + ((at + i) % 26) : rnd() & 0xff;
    at += n;
  }
  return out;
};

const DATA = sample(300_000, 5);
const streams = new Map<CompressionFormat, Uint8Array>();
const streamOf = (f: CompressionFormat): Uint8Array => {
  let c = streams.get(f);
  if (!c) {
    c = run(CLI[f].tool, CLI[f].args, DATA);
    streams.set(f, c);
  }
  return c;
};

/** What a call ends with: its output and consumed count, or its error's code and offset. */
const outcome = (fn: () => { data: Uint8Array; consumed: number }) => {
  try {
    const r = fn();
    return { ok: Buffer.from(r.data).toString('base64'), consumed: r.consumed };
  } catch (e) {
    if (!(e instanceof DecompressError)) throw e;
    return { code: e.code, offset: e.offset };
  }
};

const viaInto = (input: Uint8Array, size: number, options: Parameters<typeof decompressInto>[2] = {}) => {
  const dst = new Uint8Array(size);
  const r = decompressInto(input, dst, options);
  return { data: dst.subarray(0, r.written), consumed: r.consumed };
};

let dir: string;
beforeAll(async () => {
  await prepareDecompressors();
  dir = mkdtempSync(join(tmpdir(), 'ukibpf-decompress-into-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(COMPRESSION_FORMATS)('decompressInto: %s', (format) => {
  const { tool } = CLI[format];
  it(`writes what ${tool} compressed at the start of dst and leaves the rest alone`, (ctx) => {
    const why = missingTool(tool);
    if (why) ctx.skip(why);
    const c = streamOf(format);
    const dst = new Uint8Array(DATA.length + 100).fill(0xa5);
    const r = decompressInto(c, dst);
    expect(r).toEqual({ format, written: DATA.length, consumed: c.length });
    expect(Buffer.from(dst.subarray(0, DATA.length)).equals(Buffer.from(DATA))).toBe(true);
    expect(dst.subarray(DATA.length).every((b) => b === 0xa5)).toBe(true);
  });
  it('takes a dst of exactly the output size; one byte less is OUTPUT_LIMIT, as decompressSync says', (ctx) => {
    const why = missingTool(tool);
    if (why) ctx.skip(why);
    const c = streamOf(format);
    expect(decompressInto(c, new Uint8Array(DATA.length)).written).toBe(DATA.length);
    const short = outcome(() => viaInto(c, DATA.length - 1));
    expect(short).toMatchObject({ code: DECOMPRESS_ERROR.OUTPUT_LIMIT });
    expect(short).toEqual(outcome(() => decompressSync(c, { maxOutput: DATA.length - 1 })));
    expect(outcome(() => viaInto(c, 0))).toMatchObject({ code: DECOMPRESS_ERROR.OUTPUT_LIMIT });
  });
  it('fails like decompressSync on truncation, trailing junk and a wrong size trailer', (ctx) => {
    const why = missingTool(tool);
    if (why) ctx.skip(why);
    const c = streamOf(format);
    const size = DATA.length + 16;
    for (const cut of [0, 1, 3, 9, Math.floor(c.length / 3), c.length - 5, c.length - 1]) {
      const input = c.subarray(0, cut);
      expect(outcome(() => viaInto(input, size, { format }))).toEqual(
        outcome(() => decompressSync(input, { maxOutput: size, format })),
      );
    }
    const junk = new Uint8Array([...c, 0, 0, 0, 0, 0x30, 0x37]);
    for (const trailing of ['reject', 'allow'] as const) {
      expect(outcome(() => viaInto(junk, size, { trailing }))).toEqual(
        outcome(() => decompressSync(junk, { maxOutput: size, trailing })),
      );
    }
    const trailer = new Uint8Array(4);
    new DataView(trailer.buffer).setUint32(0, DATA.length + 1, true);
    const wrong = format === 'gzip' ? c : new Uint8Array([...c, ...trailer]);
    const got = outcome(() => viaInto(wrong, size, { sizeTrailer: true }));
    expect(got).toEqual(outcome(() => decompressSync(wrong, { maxOutput: size, sizeTrailer: true })));
    if (format !== 'gzip') expect(got).toMatchObject({ code: DECOMPRESS_ERROR.BAD_SIZE_TRAILER });
  });
});

describe('decompressInto: zstd frames with and without a declared content size', () => {
  it('decodes both in place, and caps both at dst', (ctx) => {
    const why = missingTool('zstd');
    if (why) ctx.skip(why);
    const file = join(dir, 'data');
    writeFileSync(file, DATA);
    const declared = run('zstd', ['-3', '-c', file]); // from a file: the frame header carries the size
    const streamed = run('zstd', ['-3', '-c'], DATA); // from a pipe: no content size, decoded as a stream
    expect(declared[4]! & 0xc0).not.toBe(0);
    expect(streamed[4]! & 0xc0).toBe(0);
    for (const c of [declared, streamed]) {
      const dst = new Uint8Array(DATA.length);
      expect(decompressInto(c, dst).written).toBe(DATA.length);
      expect(Buffer.from(dst).equals(Buffer.from(DATA))).toBe(true);
      for (const size of [DATA.length - 1, 1000]) {
        expect(outcome(() => viaInto(c, size))).toEqual(outcome(() => decompressSync(c, { maxOutput: size })));
      }
    }
  });
});

describe('decompressInto: fuzz', () => {
  it('agrees with decompressSync on mutated streams of every format (same bytes or the same error)', (ctx) => {
    const why = missingTool(...COMPRESSION_FORMATS.map((f) => CLI[f].tool));
    if (why) ctx.skip(why);
    const small = sample(12_000, 9);
    const seeds = COMPRESSION_FORMATS.map((f) => run(CLI[f].tool, CLI[f].args, small));
    fc.assert(
      fc.property(
        fc.nat(seeds.length - 1),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
        fc.integer({ min: 0, max: 16_000 }),
        (which, flips, size) => {
          const m = new Uint8Array(seeds[which]!);
          for (const [at, v] of flips) m[at % m.length] = v;
          const into = outcome(() => viaInto(m, size, { trailing: 'allow' }));
          expect(into).toEqual(outcome(() => decompressSync(m, { maxOutput: size, trailing: 'allow' })));
        },
      ),
      { numRuns: 300, seed: 20261122 },
    );
  });
});
