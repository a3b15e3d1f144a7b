/**
 * `make bench` (interpreter part): each program of bench/vm/programs.ts runs in our interpreter and,
 * in the same run, in the kernel (BPF_PROG_TEST_RUN with repeat, JIT as configured by
 * /proc/sys/net/core/bpf_jit_enable); prints ns/run and ns per executed instruction of both, their
 * ratio, and geometric means. Results are checked against each program's reference first.
 * Our figure is CPU time of this process (median of 7 batches); the kernel's is its own per-run
 * average over `repeat` runs (measured in the kernel with preemption disabled).
 *
 *   node --import tsx bench/vm/run.ts [--filter NAME] [--json]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { assembleUbpf } from '../../bpf/asm/ubpf/index.ts';
import { runInKernel } from '../../runtime/linux/index.ts';
import { Vm } from '../../runtime/vm/index.ts';
import { missingBpf } from '../../test/support/env.ts';
import { BENCH_PROGRAMS } from './programs.ts';

const { values: args } = parseArgs({
  options: { filter: { type: 'string' }, json: { type: 'boolean', default: false } },
});

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};
const geomean = (xs: number[]): number => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
const now = (): number => Number(process.hrtime.bigint());

/** This process's CPU time in ns: other load on a shared machine does not inflate it (wall time would). */
const cpuNs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

/** Runs for about `ns` of wall time; returns the number of runs. */
const warm = (vm: Vm, mem: Uint8Array, ns: number): number => {
  const t0 = now();
  let n = 0;
  while (n < 5 || now() - t0 < ns) {
    vm.run({ mem });
    n++;
  }
  return n;
};

/** Median CPU ns per run over 7 batches of at least ~60 ms each. */
const timeOurs = (vm: Vm, mem: Uint8Array): number => {
  const perBatch = Math.max(1, Math.ceil(warm(vm, mem, 300e6) / 5));
  const samples: number[] = [];
  for (let b = 0; b < 7; b++) {
    const t = cpuNs();
    for (let i = 0; i < perBatch; i++) vm.run({ mem });
    samples.push((cpuNs() - t) / perBatch);
  }
  return median(samples);
};

interface Row {
  name: string;
  insns: number;
  oursNs: number;
  kernelNs: number | undefined;
}

const kernelWhy = missingBpf();
const jit = (() => {
  try {
    return readFileSync('/proc/sys/net/core/bpf_jit_enable', 'utf8').trim() === '1' ? 'JIT' : 'interpreter';
  } catch {
    return 'unknown';
  }
})();
const selected = BENCH_PROGRAMS.filter((x) => args.filter === undefined || x.name.includes(args.filter));
const vms = selected.map((p) => new Vm(assembleUbpf(p.source, { file: `${p.name}.s` }).insns));
// Warm the dispatch loop on every program first, so each is timed with the same optimized code.
for (const [i, p] of selected.entries()) warm(vms[i] as Vm, p.input(), 200e6);
const rows: Row[] = [];
for (const [i, p] of selected.entries()) {
  const vm = vms[i] as Vm;
  const insns = vm.program.insns;
  const input = p.input();
  const check = vm.run({ mem: input.slice() });
  const expected = p.expected(input.slice());
  if (check.r0 !== expected)
    throw new Error(`${p.name}: interpreter returned 0x${check.r0.toString(16)}, expected 0x${expected.toString(16)}`);
  const mem = input.slice();
  const oursNs = timeOurs(vm, mem);
  let kernelNs: number | undefined;
  if (kernelWhy === undefined) {
    const once = runInKernel(insns, input.slice());
    if (once.kind === 'rejected') throw new Error(`${p.name}: the kernel rejected it: ${once.error.log}`);
    if (once.r0 !== expected) throw new Error(`${p.name}: the kernel returned 0x${once.r0.toString(16)}`);
    // About 0.2 s of kernel time per sample.
    const repeat = Math.max(1, Math.round(0.2e9 / (check.insns * 0.3)));
    const samples: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = runInKernel(insns, input.slice(), { repeat });
      if (r.kind === 'result') samples.push(r.durationNs);
    }
    kernelNs = median(samples);
  }
  rows.push({ name: p.name, insns: check.insns, oursNs, kernelNs });
}

const fmt = (x: number, d = 2): string => x.toFixed(d);
const withKernel = rows.filter((r) => r.kernelNs !== undefined && r.kernelNs > 0);
const summary = {
  oursNsPerInsn: geomean(rows.map((r) => r.oursNs / r.insns)),
  kernelNsPerInsn: withKernel.length ? geomean(withKernel.map((r) => (r.kernelNs as number) / r.insns)) : undefined,
  ratio: withKernel.length ? geomean(withKernel.map((r) => r.oursNs / (r.kernelNs as number))) : undefined,
};
if (args.json) {
  process.stdout.write(`${JSON.stringify({ kernel: kernelWhy ?? jit, rows, summary }, null, 2)}\n`);
} else {
  console.log(
    `interpreter vs kernel (${kernelWhy ? `skipped: ${kernelWhy}` : `BPF_PROG_TEST_RUN, ${jit}`}), node ${process.version}`,
  );
  console.log(
    `${'program'.padEnd(10)} ${'insns'.padStart(8)} ${'ours ns/run'.padStart(12)} ${'ns/insn'.padStart(8)} ${'kernel ns/run'.padStart(14)} ${'ns/insn'.padStart(8)} ${'ours/kernel'.padStart(12)}`,
  );
  for (const r of rows) {
    const k = r.kernelNs;
    console.log(
      `${r.name.padEnd(10)} ${String(r.insns).padStart(8)} ${fmt(r.oursNs, 0).padStart(12)} ${fmt(r.oursNs / r.insns).padStart(8)} ${(k === undefined ? '-' : fmt(k, 0)).padStart(14)} ${(k === undefined ? '-' : fmt(k / r.insns, 3)).padStart(8)} ${(k ? `${fmt(r.oursNs / k, 1)}x` : '-').padStart(12)}`,
    );
  }
  console.log(
    `geomean: interpreter ${fmt(summary.oursNsPerInsn)} ns/insn (target < 6)` +
      (summary.kernelNsPerInsn === undefined
        ? ''
        : `, kernel ${fmt(summary.kernelNsPerInsn, 3)} ns/insn, ratio ${fmt(summary.ratio as number, 1)}x`),
  );
}
