/**
 * `make bench` (verifier part): our verification time vs the kernel's own, on the same programs —
 * the bpf_conformance corpus wrapped as an XDP program (as the kernel-diff test wraps it), the clang
 * fixtures, and the DSL compiler's parsers (test/compiler/programs/, syscall programs: the largest
 * programs we have). The kernel's figure is the `verification time N usec` line of its log at level 4
 * (BPF_LOG_STATS); ours is the wall time of verify() at the same log level. Both are medians of
 * REPS loads. Prints one line per program and geometric means of ours/kernel per family, over the
 * programs both accept with a non-zero kernel time.
 *
 *   node --import tsx bench/verifier/run.ts [--filter NAME] [--reps N] [--json]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type RawSlot, toSlots } from '../../bpf/isa/index.ts';
import { compileSource, linkedInsns, linkedMaps } from '../../compiler/index.ts';
import { syscall, verify } from '../../runtime/verifier/index.ts';
import { missingBpf } from '../../test/support/env.ts';
import {
  clangPrograms,
  conformancePrograms,
  type DiffProgram,
  kernelLoad,
  ourOptions,
} from '../../test/runtime/verifier/corpus/index.ts';
import { kernelVerify } from '../../test/runtime/verifier/support/kernel.ts';

const { values: args } = parseArgs({
  options: {
    filter: { type: 'string' },
    reps: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});
const REPS = Math.max(1, Number(args.reps));
const ROOT = resolve(import.meta.dirname, '../..');
const DSL_DIR = join(ROOT, 'test/compiler/programs');

const LDDW = 0x18;

const why = missingBpf();
if (why) {
  console.log(`bench/verifier: skipped (${why}): the kernel's verification time needs bpf(2)`);
  process.exit(0);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const geomean = (xs: number[]): number => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);

/** A corpus program, or one of the DSL compiler's (family 'dsl'). */
type BenchProgram = Omit<DiffProgram, 'family'> & { readonly family: string };

/** The DSL parsers, compiled by our compiler, as the syscall programs the kexec tests load. */
const dslPrograms = (): BenchProgram[] =>
  readdirSync(DSL_DIR)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => {
      const path = join(DSL_DIR, f);
      const out = compileSource(path, readFileSync(path, 'utf8'));
      if (out.diagnostics.length > 0) return [];
      return out.programs.map((p) => {
        return {
          family: 'dsl',
          name: `${f.replace(/\.ts$/, '')}:${p.name}`,
          // lddw map_idx (src 5/6, libbpf's fd_array form) as map fd (src 1/2): kernelVerify binds those
          slots: linkedInsns(out, p)
            .flatMap(toSlots)
            .map((s) => (s.code === LDDW && (s.src === 5 || s.src === 6) ? { ...s, src: s.src - 4 } : s)),
          policy: syscall,
          progType: 31,
          expectedAttachType: 0,
          sleepable: true,
          maps: linkedMaps(out),
          license: 'GPL',
          funcInfo: undefined,
        };
      });
    });

interface Row {
  readonly family: string;
  readonly name: string;
  readonly insns: number;
  readonly kernelAccepted: boolean;
  readonly oursAccepted: boolean;
  readonly kernelProcessed: number | undefined;
  readonly oursProcessed: number;
  readonly kernelUs: number | undefined;
  readonly oursUs: number;
}

const kernelTime = (p: BenchProgram): { accepted: boolean; us: number | undefined; processed: number | undefined } => {
  const samples: number[] = [];
  let accepted = false;
  let processed: number | undefined;
  for (let k = 0; k < REPS; k++) {
    const r = kernelVerify(kernelLoad(p, 4));
    accepted = r.accepted;
    const t = /verification time (\d+) usec/.exec(r.log);
    if (t) samples.push(Number(t[1]));
    const n = /processed (\d+) insns/.exec(r.log);
    if (n) processed = Number(n[1]);
  }
  return { accepted, us: samples.length > 0 ? median(samples) : undefined, processed };
};

const ourTime = (p: BenchProgram): { accepted: boolean; us: number; processed: number } => {
  const run = () => verify(p.slots, ourOptions(p, 4));
  const t = process.hrtime.bigint();
  const first = run(); // warm-up (JIT); the only sample when it alone takes over a second
  const samples: number[] = [];
  const firstUs = Number(process.hrtime.bigint() - t) / 1000;
  if (firstUs > 1e6) samples.push(firstUs);
  for (let k = 0; k < REPS && firstUs <= 1e6; k++) {
    const t0 = process.hrtime.bigint();
    run();
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return { accepted: first.accepted, us: median(samples), processed: first.stats.insnProcessed };
};

/**
 * The pattern of reference/ebpf.md §8 (`neg` then `and`/`or` with a constant on the same register,
 * which makes 6.18's verifier fork states until it oopses in a loop): such programs are never loaded.
 */
const forksScalars = (slots: readonly RawSlot[]): boolean =>
  slots.some((s, i) => {
    if ((s.code & 0x07) !== 0x04 && (s.code & 0x07) !== 0x07) return false;
    if ((s.code & 0xf0) !== 0x80) return false;
    return slots
      .slice(i + 1, i + 4)
      .some((t) => t.dst === s.dst && (t.code & 0x0f) === (s.code & 0x07) && [0x40, 0x50].includes(t.code & 0xf0));
  });

const programs: BenchProgram[] = [...conformancePrograms(), ...clangPrograms(), ...dslPrograms()].filter(
  (p) => (args.filter === undefined || p.name.includes(args.filter)) && !forksScalars(p.slots),
);
const rows: Row[] = programs.map((p) => {
  const k = kernelTime(p);
  const o = ourTime(p);
  return {
    family: p.family,
    name: p.name,
    insns: p.slots.length,
    kernelAccepted: k.accepted,
    oursAccepted: o.accepted,
    kernelProcessed: k.processed,
    oursProcessed: o.processed,
    kernelUs: k.us,
    oursUs: o.us,
  };
});

const comparable = (r: Row): boolean => r.kernelAccepted && r.oursAccepted && (r.kernelUs ?? 0) > 0;
const ratio = (r: Row): number => r.oursUs / (r.kernelUs as number);
const families = [...new Set(rows.map((r) => r.family)), 'all'];
const summary = families.map((fam) => {
  const rs = rows.filter((r) => (fam === 'all' || r.family === fam) && comparable(r));
  return { family: fam, programs: rs.length, geomean: rs.length > 0 ? geomean(rs.map(ratio)) : undefined };
});

if (args.json) {
  console.log(JSON.stringify({ rows, summary }, null, 2));
} else {
  const fmt = (x: number | undefined, d = 0): string => (x === undefined ? '-' : x.toFixed(d));
  console.log(
    `${'program'.padEnd(44)} ${'insns'.padStart(6)} ${'processed k/ours'.padStart(17)} ` +
      `${'kernel µs'.padStart(9)} ${'ours µs'.padStart(9)} ${'ratio'.padStart(7)}`,
  );
  for (const r of rows) {
    const verdict = r.kernelAccepted === r.oursAccepted ? '' : '  (verdicts differ)';
    const processed = `${fmt(r.kernelProcessed)}/${r.oursProcessed}`;
    console.log(
      `${`${r.family}/${r.name}`.slice(0, 44).padEnd(44)} ${String(r.insns).padStart(6)} ${processed.padStart(17)} ` +
        `${fmt(r.kernelUs).padStart(9)} ${fmt(r.oursUs, 1).padStart(9)} ` +
        `${comparable(r) ? ratio(r).toFixed(2).padStart(7) : '-'.padStart(7)}${verdict}`,
    );
  }
  for (const s of summary) {
    console.log(
      `geomean ours/kernel ${s.family.padEnd(12)} ${s.geomean === undefined ? '-' : `${s.geomean.toFixed(2)}×`} over ${s.programs} programs`,
    );
  }
}
