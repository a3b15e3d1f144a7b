/**
 * `make bench` (compiler part): six parsers written both in the DSL (test/compiler/programs/) and in C
 * with the same algorithm (bench/compiler/c/), compiled by us and by `clang -O2 -target bpf -mcpu=v3`
 * in the same run. Prints instruction counts and their ratio (target: geometric mean ≤ 1.25× clang's),
 * the instructions the kernel's verifier and ours process for each object, our warm compile time and
 * clang's. Kernel figures need root and bpf(2) (bpftool prog load); without, the column says why.
 *
 *   node --import tsx bench/compiler/run.ts [--json]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readObject } from '../../bpf/elf/index.ts';
import { compileSource, linkedInsns, linkedMaps, writeElf } from '../../compiler/index.ts';
import { linkProgram, syscall, verify } from '../../runtime/verifier/index.ts';
import { findTool, missingBpf } from '../../test/support/env.ts';

const { values: args } = parseArgs({ options: { json: { type: 'boolean', default: false } } });

const ROOT = resolve(import.meta.dirname, '../..');
const DSL_DIR = join(ROOT, 'test/compiler/programs');
const C_DIR = join(ROOT, 'bench/compiler/c');
const C_INCLUDE = join(ROOT, 'test/fixtures/clang');
const CLANG_FLAGS = ['-O2', '-g', '-target', 'bpf', '-mcpu=v3'];
const WARM_RUNS = 7;

/** [file stem, DSL program name, C function name] */
const PROGRAMS: readonly [string, string, string][] = [
  ['checksum', 'checksum', 'checksum'],
  ['fnv1a', 'fnv1a', 'fnv1a'],
  ['memcmp', 'memcmp', 'memcmp_prog'],
  ['pe-scan', 'peScan', 'pe_scan'],
  ['cpio-header', 'cpioHeader', 'cpio_header'],
  ['zboot-header', 'zbootHeader', 'zboot_header'],
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const geomean = (xs: number[]): number => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

const tmp = mkdtempSync(join(tmpdir(), 'ukibpf-bench-compiler-'));
const noKernel = missingBpf() ?? (findTool('bpftool') === undefined ? 'bpftool is not installed' : undefined);
const clang = findTool('clang');
if (clang === undefined) {
  console.error('bench/compiler: clang is not installed (scripts/setup.sh installs it)');
  process.exit(1);
}

/** `processed N insns` of the kernel's verifier for the object (bpftool -d prints its log). */
const kernelProcessed = (obj: string, tag: string): number | string => {
  if (noKernel !== undefined) return 'skipped';
  const pin = `/sys/fs/bpf/ukibpf_bench_${process.pid}_${tag}`;
  try {
    const r = spawnSync(findTool('bpftool') as string, ['-d', 'prog', 'load', obj, pin], {
      encoding: 'utf8',
      maxBuffer: 256 << 20,
    });
    const m = /processed (\d+) insns/.exec(`${r.stdout}${r.stderr}`);
    if (r.status !== 0) return `rejected${m ? ` after ${m[1]}` : ''}`;
    return m ? Number(m[1]) : 'no log';
  } finally {
    rmSync(pin, { force: true });
  }
};

interface Row {
  readonly program: string;
  readonly insns: number;
  readonly clangInsns: number;
  readonly ratio: number;
  readonly kernel: number | string;
  readonly clangKernel: number | string;
  readonly ours: number | string;
  readonly clangOurs: number | string;
  readonly compileMs: number;
  readonly clangMs: number;
}

const ourVerdict = (r: ReturnType<typeof verify>): number | string =>
  r.accepted ? r.stats.insnProcessed : `rejected: ${r.error?.message ?? '?'}`;

let coldMs = 0;
const rows: Row[] = [];
try {
  for (const [stem, name, cName] of PROGRAMS) {
    const path = join(DSL_DIR, `${stem}.ts`);
    const text = readFileSync(path, 'utf8');
    const times: number[] = [];
    const cold = process.hrtime.bigint();
    let out = compileSource(path, text);
    if (coldMs === 0) coldMs = ms(cold);
    for (let k = 0; k < WARM_RUNS; k++) {
      const t0 = process.hrtime.bigint();
      out = compileSource(path, text);
      times.push(ms(t0));
    }
    if (out.diagnostics.length > 0) throw new Error(`${stem}.ts does not compile: ${out.diagnostics[0]?.message}`);
    const prog = out.programs.find((p) => p.name === name);
    if (prog === undefined) throw new Error(`${stem}.ts has no program ${name}`);
    const ours = join(tmp, `${stem}.dsl.o`);
    writeFileSync(ours, writeElf(out));

    const cObj = join(tmp, `${stem}.c.o`);
    const cClangTimes: number[] = [];
    for (let k = 0; k < 3; k++) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(clang, [...CLANG_FLAGS, '-I', C_INCLUDE, '-c', join(C_DIR, `${stem}.c`), '-o', cObj], {
        encoding: 'utf8',
      });
      cClangTimes.push(ms(t0));
      if (r.status !== 0) throw new Error(`clang failed on ${stem}.c:\n${r.stderr}`);
    }
    const obj = readObject(readFileSync(cObj), { file: cObj });
    const fn = obj.programs.find((f) => f.name === cName);
    if (fn === undefined) throw new Error(`${stem}.c has no function ${cName}`);
    const linked = linkProgram(obj, fn);

    rows.push({
      program: stem,
      insns: prog.insns.length,
      clangInsns: fn.insns.length,
      ratio: prog.insns.length / fn.insns.length,
      kernel: kernelProcessed(ours, `${stem.replace(/-/g, '_')}_dsl`),
      clangKernel: kernelProcessed(cObj, `${stem.replace(/-/g, '_')}_c`),
      ours: ourVerdict(verify(linkedInsns(out, prog), { policy: syscall, maps: linkedMaps(out) })),
      clangOurs: ourVerdict(verify(linked.slots, { policy: linked.policy ?? syscall, maps: linked.maps })),
      compileMs: median(times),
      clangMs: median(cClangTimes),
    });
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const gm = geomean(rows.map((r) => r.ratio));
if (args.json) {
  console.log(JSON.stringify({ rows, geomeanRatio: gm, coldCompileMs: coldMs, kernel: noKernel ?? 'yes' }, null, 2));
} else {
  const head = [
    'program',
    'insns DSL',
    'insns clang',
    'ratio',
    'kernel processed DSL',
    'kernel processed clang',
    'ours processed DSL',
    'ours processed clang',
    'compile DSL ms (warm)',
    'clang ms',
  ];
  const body = rows.map((r) => [
    r.program,
    `${r.insns}`,
    `${r.clangInsns}`,
    `${r.ratio.toFixed(2)}×`,
    `${r.kernel}`,
    `${r.clangKernel}`,
    `${r.ours}`,
    `${r.clangOurs}`,
    r.compileMs.toFixed(0),
    r.clangMs.toFixed(0),
  ]);
  console.log(`| ${head.join(' | ')} |`);
  console.log(`| ${head.map(() => '---').join(' | ')} |`);
  for (const b of body) console.log(`| ${b.join(' | ')} |`);
  console.log(
    `\ninstruction count vs clang -O2 -mcpu=v3, geometric mean: ${gm.toFixed(2)}× (target ≤ 1.25×: ${gm <= 1.25 ? 'met' : 'NOT met'})`,
  );
  console.log(`first (cold) compile in this process: ${coldMs.toFixed(0)} ms; warm: median of ${WARM_RUNS} runs`);
  if (noKernel !== undefined) console.log(`kernel columns skipped: ${noKernel}`);
}
