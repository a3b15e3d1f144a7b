/**
 * Decompression benchmark: each kernel format decoded by formats/decompress and by its own CLI (`-dc`,
 * output to /dev/null) on the same real kernel payload, in the same run. Prints MB/s of output and the
 * ratio ours/CLI (time; lower is better) for two ways of calling us: `decompressSync`, which allocates the
 * result every call, and `decompressInto` one reused destination (what bpf_helper_decompress does, and what
 * the CLI does with its own reused buffer). The CLI baseline is the same for both. Targets: ≤ 1.5× for
 * gzip, zstd and lz4.
 *
 * Payload: the vmlinux inside the Debian cloud kernel's bzImage (scripts/fixtures.sh), else the running
 * kernel's /boot/vmlinuz-*, else ~50 MB of /usr/lib binaries (the table says which).
 * Compressed inputs are cached in .cache/bench/decompress/. Run: node --import tsx bench/decompress/run.ts
 * (BENCH_RUNS=n: best of n, default 3; BENCH_FORMATS=gzip,zstd,lz4: only those).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type CompressionFormat,
  decompressInto,
  decompressSync,
  prepareDecompressors,
} from '../../formats/decompress/index.ts';
import { parseBzImage } from '../../formats/kernel/index.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CACHE = join(ROOT, '.cache/bench/decompress');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** BENCH_FORMATS=gzip,zstd,lz4 limits the run to those formats. */
const ONLY = process.env.BENCH_FORMATS?.split(',');

/** How each format is made (the kernel's own flags where they are cheap enough to run here). */
const FORMATS: { format: CompressionFormat; tool: string; args: string[]; target?: number }[] = [
  { format: 'gzip', tool: 'gzip', args: ['-9', '-n', '-c'], target: 1.5 },
  { format: 'zstd', tool: 'zstd', args: ['-19', '-T2', '-c'], target: 1.5 },
  { format: 'lz4', tool: 'lz4', args: ['-l', '-9', '-c'], target: 1.5 },
  {
    format: 'xz',
    tool: 'xz',
    args: ['--format=xz', '--check=crc32', '--x86', '--lzma2=preset=6,dict=32MiB', '-T1', '-c'],
  },
  { format: 'lzma', tool: 'lzma', args: ['-6', '-c'] },
  { format: 'bzip2', tool: 'bzip2', args: ['-9', '-c'] },
  { format: 'lzo', tool: 'lzop', args: ['-9', '-c'] },
];

const which = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

const payload = (): { data: Uint8Array; source: string } => {
  const debian = join(ROOT, '.cache/fixtures/debian/linux-image-cloud-amd64/boot');
  const fromBzImage = (path: string, label: string) => {
    const h = parseBzImage(readFileSync(path));
    const out = decompressSync(h.payload, { maxOutput: 512 << 20, sizeTrailer: true });
    return { data: out.data, source: `${label} (vmlinux from the ${out.format} bzImage payload)` };
  };
  if (existsSync(debian)) {
    const f = readdirSync(debian).find((n) => n.startsWith('vmlinuz-'));
    if (f) return fromBzImage(join(debian, f), `Debian ${f}`);
  }
  const boot = existsSync('/boot') ? readdirSync('/boot').find((n) => n.startsWith('vmlinuz-')) : undefined;
  if (boot) return fromBzImage(join('/boot', boot), `/boot/${boot}`);
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const name of readdirSync('/usr/lib/x86_64-linux-gnu').sort()) {
    const p = join('/usr/lib/x86_64-linux-gnu', name);
    if (!name.endsWith('.so') || !statSync(p).isFile()) continue;
    const b = readFileSync(p);
    parts.push(b);
    total += b.length;
    if (total > 50 << 20) break;
  }
  return { data: Buffer.concat(parts), source: 'generated: ~50 MB of /usr/lib binaries (no kernel fixture found)' };
};

const best = (fn: () => void): number => {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  }
  return min;
};

const main = async (): Promise<void> => {
  await prepareDecompressors();
  const { data, source } = payload();
  const key = createHash('sha256').update(data).digest('hex').slice(0, 12);
  mkdirSync(CACHE, { recursive: true });
  const mb = data.length / 1e6;
  console.log(`payload: ${source}, ${mb.toFixed(1)} MB; best of ${RUNS} runs; ratio = our time / CLI time`);
  const rows: string[][] = [
    ['format', 'compressed MB', 'CLI -dc MB/s', 'ours MB/s', 'ratio', 'into MB/s', 'into ratio', 'target'],
  ];
  const devnull = openSync('/dev/null', 'w');
  // One destination for every decompressInto call, touched once so its pages exist (as a reused buffer's do).
  const dst = new Uint8Array(data.length).fill(1);
  for (const { format, tool, args, target } of FORMATS.filter((f) => !ONLY || ONLY.includes(f.format))) {
    if (!which(tool)) {
      rows.push([format, '-', `${tool} missing`, '-', '-', '-', '-', target ? `≤${target}` : '']);
      continue;
    }
    const file = join(CACHE, `${key}.${format}`);
    if (!existsSync(file)) {
      process.stderr.write(`compressing with ${tool} ${args.join(' ')} (cached afterwards)…\n`);
      const r = spawnSync(tool, args, { input: data, maxBuffer: 1 << 30 });
      if (r.status !== 0) throw new Error(`${tool}: ${r.stderr.toString()}`);
      writeFileSync(file, r.stdout);
    }
    const compressed = new Uint8Array(readFileSync(file));
    const check = decompressSync(compressed, { maxOutput: data.length });
    if (!Buffer.from(check.data).equals(Buffer.from(data)))
      throw new Error(`${format}: output differs from the payload`);
    const cli = best(() => {
      const r = spawnSync(tool, ['-dc', file], { stdio: ['ignore', devnull, 'pipe'] });
      if (r.status !== 0) throw new Error(`${tool} -dc: ${r.stderr.toString()}`);
    });
    dst.fill(0);
    if (decompressInto(compressed, dst).written !== data.length || !Buffer.from(dst).equals(Buffer.from(data)))
      throw new Error(`${format}: decompressInto output differs from the payload`);
    const ours = best(() => decompressSync(compressed, { maxOutput: data.length }));
    const into = best(() => decompressInto(compressed, dst));
    const ratio = ours / cli;
    const intoRatio = into / cli;
    const verdict = (r: number) => (target === undefined ? '' : r <= target ? 'met' : 'MISSED');
    rows.push([
      format,
      (compressed.length / 1e6).toFixed(1),
      (mb / (cli / 1000)).toFixed(0),
      (mb / (ours / 1000)).toFixed(0),
      ratio.toFixed(2),
      (mb / (into / 1000)).toFixed(0),
      intoRatio.toFixed(2),
      target ? `≤${target}: ${verdict(ratio)}, into ${verdict(intoRatio)}` : '',
    ]);
  }
  closeSync(devnull);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const [i, r] of rows.entries()) {
    console.log(`| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`);
    if (i === 0) console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  }
};

await main();
