/**
 * End-to-end load benchmark: `kexec-bpf -s -l uki.efi --dump DIR` on a ~100 MB signed UKI — the UKI parser
 * in `.bpf`, `.linux` an EFI zboot (zstd) arm64 kernel of ~28 MB decompressed whose own `.bpf` (the zboot
 * parser) is the second stage, and a 70 MB initrd of random (incompressible) bytes — against the work no
 * loader can avoid, measured in the same run: `sha256sum` of the UKI (the signature check reads it all),
 * `zstd -d` of the kernel payload, and `cp` of the initrd. Prints the ratio (target ≤ 2×) and
 * kexec-bpf's peak RSS (its process.resourceUsage().maxRSS, reported with --json).
 *
 * The inputs are built once into .cache/bench/e2e/ (rebuilt when a parser source changes). The kernel
 * payload is the Debian cloud kernel's vmlinux (scripts/fixtures.sh) under an arm64 Image header, else
 * /usr/lib binaries. Run: node --import tsx bench/e2e/run.ts (BENCH_RUNS=n: best of n, default 3;
 * BENCH_INITRD_MB=n: the initrd's size).
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compileSource, writeElf } from '../../compiler/index.ts';
import { loadCertificates, loadPrivateKey, signImage } from '../../formats/authenticode/index.ts';
import { decompressSync } from '../../formats/decompress/index.ts';
import { ARM64_IMAGE, parseBzImage } from '../../formats/kernel/index.ts';
import { buildUki } from '../../formats/uki/index.ts';
import { sampleStub } from '../../samples/make-inputs.ts';
import { zbootPe } from '../../test/e2e/support.ts';
import { testKeys } from '../../test/support/fixtures.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CACHE = join(ROOT, '.cache/bench/e2e');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const KERNEL_BYTES = 28 << 20;
/** BENCH_INITRD_MB=n: another initrd size (MiB; default 70). */
const INITRD_BYTES = Number(process.env.BENCH_INITRD_MB ?? 70) << 20;
const TARGET = 2;
const PARSERS = { uki: join(ROOT, 'parsers/uki.ts'), zboot: join(ROOT, 'parsers/zboot.ts') } as const;
const DEBIAN = join(ROOT, '.cache/fixtures/debian');
/** The arm64 Image header's size (booting.rst): the body starts after it. */
const ARM64_HEADER_SIZE = 64;

const sh = (cmd: string, args: readonly string[], input?: Uint8Array): Buffer => {
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr?.toString() ?? r.error}`);
  return r.stdout;
};

/** ~28 MB that compress like a kernel: the Debian vmlinux (or /usr/lib binaries), under an arm64 Image header. */
const arm64Kernel = (): { data: Uint8Array; source: string } => {
  const boot = join(DEBIAN, 'linux-image-cloud-amd64/boot');
  const name = existsSync(boot) ? readdirSync(boot).find((n) => n.startsWith('vmlinuz-')) : undefined;
  let body: Uint8Array;
  let source: string;
  if (name) {
    const bz = parseBzImage(readFileSync(join(boot, name)));
    body = decompressSync(bz.payload, { maxOutput: 512 << 20, sizeTrailer: true }).data;
    source = `Debian ${name}'s vmlinux`;
  } else {
    const dir = '/usr/lib/x86_64-linux-gnu';
    const parts = readdirSync(dir)
      .sort()
      .map((n) => join(dir, n))
      .filter((p) => p.endsWith('.so') && statSync(p).isFile());
    body = Buffer.concat(parts.slice(0, 200).map((p) => readFileSync(p)));
    source = '/usr/lib binaries (no Debian kernel fixture)';
  }
  const out = new Uint8Array(KERNEL_BYTES);
  for (let at = ARM64_HEADER_SIZE; at < out.length; at += body.length) out.set(body.subarray(0, out.length - at), at);
  const v = new DataView(out.buffer);
  v.setBigUint64(ARM64_IMAGE.OFF_IMAGE_SIZE, BigInt(KERNEL_BYTES + (1 << 20)), true);
  v.setBigUint64(ARM64_IMAGE.OFF_FLAGS, 0xan, true); // little-endian, 4K pages, anywhere in memory
  v.setUint32(ARM64_IMAGE.OFF_MAGIC, ARM64_IMAGE.MAGIC, true);
  return { data: out, source };
};

const compileParser = (file: string): Uint8Array => {
  const out = compileSource(file, readFileSync(file, 'utf8'));
  if (out.diagnostics.length > 0) {
    throw new Error(`${file}: ${out.diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`).join('; ')}`);
  }
  return writeElf(out);
};

interface Inputs {
  readonly uki: string;
  /** The UKI's `.linux` alone, signed: the zboot stage measured by itself. */
  readonly zboot: string;
  readonly cert: string;
  readonly payload: string;
  readonly initrd: string;
  readonly kernelSha256: string;
  readonly source: string;
}

/** Builds the UKI and the baseline's files once (keyed by the parsers' sources and the stub). */
const inputs = (): Inputs => {
  const stubPath = join(DEBIAN, 'systemd-boot-efi/usr/lib/systemd/boot/efi/linuxx64.efi.stub');
  const stub = existsSync(stubPath) ? new Uint8Array(readFileSync(stubPath)) : sampleStub();
  const key = createHash('sha256')
    .update(readFileSync(PARSERS.uki))
    .update(readFileSync(PARSERS.zboot))
    .update(stub)
    .update(String(INITRD_BYTES))
    .digest('hex')
    .slice(0, 12);
  const dir = join(CACHE, key);
  const files = {
    uki: join(dir, 'uki.efi'),
    zboot: join(dir, 'zboot.efi'),
    payload: join(dir, 'kernel.zst'),
    initrd: join(dir, 'initrd.bin'),
    meta: join(dir, 'meta.json'),
  };
  const keys = testKeys().rsa;
  if (!existsSync(files.meta)) {
    process.stderr.write(`building the benchmark UKI into ${dir} (once)…\n`);
    rmSync(CACHE, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const kernel = arm64Kernel();
    const payload = sh('zstd', ['-12', '-T2', '-c'], kernel.data);
    writeFileSync(files.payload, payload);
    const initrd = randomBytes(INITRD_BYTES);
    writeFileSync(files.initrd, initrd);
    const linux = zbootPe('zstd', payload, kernel.data.length, compileParser(PARSERS.zboot));
    const uki = buildUki({
      stub,
      linux,
      initrds: [initrd],
      cmdline: new TextEncoder().encode('console=ttyAMA0 quiet'),
      uname: new TextEncoder().encode('6.1.0-bench'),
      sections: [{ name: '.bpf', data: compileParser(PARSERS.uki) }],
    });
    const [certificate, ...chain] = loadCertificates(readFileSync(keys.cert), keys.cert);
    if (certificate === undefined) throw new Error(`${keys.cert}: no certificate`);
    const signer = { key: loadPrivateKey(readFileSync(keys.key), keys.key), certificate, chain };
    writeFileSync(files.uki, signImage(uki, signer));
    writeFileSync(files.zboot, signImage(linux, signer));
    const meta = { kernelSha256: createHash('sha256').update(kernel.data).digest('hex'), source: kernel.source };
    writeFileSync(files.meta, JSON.stringify(meta));
  }
  const meta = JSON.parse(readFileSync(files.meta, 'utf8')) as { kernelSha256: string; source: string };
  return { ...files, cert: keys.cert, ...meta };
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

const sha256File = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** How long kexec-bpf may take before the run counts as failed (a parser the verifier chews on for minutes). */
const KEXEC_BPF_DEADLINE_MS = 120_000;

interface Case {
  readonly name: string;
  readonly image: string;
  readonly baseline: Record<string, () => unknown>;
  /** Checks the dump: the timing means nothing if the kimage is wrong. */
  readonly check: (dump: string) => void;
}

interface Measured {
  readonly baseline: { name: string; ms: number }[];
  readonly wall: number;
  readonly marks: Record<string, number>;
  readonly rssKb: number;
}

/** The baseline steps (best of RUNS each), then kexec-bpf RUNS times (the fastest run's figures). */
const measure = (c: Case, cert: string, work: string): Measured | string => {
  const baseline = Object.entries(c.baseline).map(([name, fn]) => ({ name, ms: best(fn) }));
  const dump = join(work, `dump-${c.name}`);
  const args = [join(ROOT, 'bin/kexec-bpf'), '-s', '-l', c.image, '--keyring', cert, '--sig-enforce'].concat([
    '--arch',
    'arm64',
    '--timeout',
    '60',
    '--dump',
    dump,
    '--json',
  ]);
  const runs: Measured[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, {
      encoding: 'utf8',
      timeout: KEXEC_BPF_DEADLINE_MS,
      killSignal: 'SIGKILL',
      maxBuffer: 1 << 26,
    });
    const wall = performance.now() - t;
    if (r.error !== undefined || r.status !== 0) {
      const why = r.error ? String(r.error) : `exit ${r.status}`;
      return `kexec-bpf failed after ${(wall / 1000).toFixed(0)} s (${why}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`;
    }
    const out = JSON.parse(r.stdout) as { timings: Record<string, number>; maxRssKb: number };
    runs.push({ baseline, wall, marks: out.timings, rssKb: out.maxRssKb });
  }
  c.check(dump);
  const fastest = runs.reduce((a, r) => (r.wall < a.wall ? r : a));
  return { ...fastest, rssKb: Math.max(...runs.map((r) => r.rssKb)) };
};

const main = (): void => {
  const input = inputs();
  const work = join(CACHE, 'run');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const mb = (p: string): string => (statSync(p).size / 1e6).toFixed(1);
  console.log(
    `UKI ${mb(input.uki)} MB = zboot kernel ${mb(input.zboot)} MB (zstd, ${(KERNEL_BYTES / 1e6).toFixed(1)} MB ` +
      `decompressed, from ${input.source}) + initrd ${mb(input.initrd)} MB random; best of ${RUNS} runs`,
  );
  const kernelOk = (dump: string): void => {
    if (sha256File(join(dump, 'kernel')) !== input.kernelSha256)
      throw new Error('dumped kernel ≠ the decompressed payload');
  };
  const zstdD = () => sh('zstd', ['-d', '-q', '-f', input.payload, '-o', join(work, 'kernel')]);
  const cases: Case[] = [
    {
      name: 'zboot alone',
      image: input.zboot,
      baseline: { sha256sum: () => sh('sha256sum', [input.zboot]), 'zstd -d': zstdD },
      check: kernelOk,
    },
    {
      name: 'UKI',
      image: input.uki,
      baseline: {
        sha256sum: () => sh('sha256sum', [input.uki]),
        'zstd -d': zstdD,
        'cp initrd': () => sh('cp', [input.initrd, join(work, 'initrd')]),
      },
      check: (dump) => {
        kernelOk(dump);
        if (!readFileSync(join(dump, 'initrd')).subarray(0, INITRD_BYTES).equals(readFileSync(input.initrd)))
          throw new Error('dumped initrd ≠ the initrd');
      },
    },
  ];
  const results = cases.map((c) => ({ c, m: measure(c, input.cert, work) }));
  const rows: string[][] = [['', ...results.map((r) => r.c.name)]];
  const row = (label: string, f: (m: Measured) => string): void => {
    rows.push([label, ...results.map(({ m }) => (typeof m === 'string' ? '-' : f(m)))]);
  };
  const baselineMs = (m: Measured): number => m.baseline.reduce((a, s) => a + s.ms, 0);
  const phase = (m: Measured, from: string, to: string): number =>
    (m.marks[to] ?? Number.NaN) - (m.marks[from] ?? Number.NaN);
  const verdict = (r: number): string => `${r.toFixed(2)}× (${r <= TARGET ? 'met' : 'MISSED'})`;
  for (const step of ['sha256sum', 'zstd -d', 'cp initrd'])
    row(`baseline: ${step} ms`, (m) => m.baseline.find((s) => s.name === step)?.ms.toFixed(0) ?? '-');
  row('baseline total ms', (m) => baselineMs(m).toFixed(0));
  row('kexec-bpf: start → loader threads ready ms', (m) => String(m.marks.opened));
  row('kexec-bpf: kexec_file_load ms', (m) => String(phase(m, 'opened', 'loaded')));
  row('kexec-bpf: --dump ms', (m) => String(phase(m, 'loaded', 'dumped')));
  row('kexec-bpf: whole process (wall) ms', (m) => m.wall.toFixed(0));
  row(`ratio whole / baseline (target ≤ ${TARGET}×)`, (m) => verdict(m.wall / baselineMs(m)));
  row('ratio load + dump / baseline', (m) => verdict(phase(m, 'opened', 'dumped') / baselineMs(m)));
  row('kexec-bpf peak RSS (its own maxRSS)', (m) => `${(m.rssKb / 1024).toFixed(0)} MiB`);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const [i, r] of rows.entries()) {
    console.log(`| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`);
    if (i === 0) console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  }
  for (const { c, m } of results) if (typeof m === 'string') console.log(`${c.name}: ${m}`);
  rmSync(work, { recursive: true, force: true });
  if (results.some(({ m }) => typeof m === 'string')) process.exitCode = 1;
};

main();
