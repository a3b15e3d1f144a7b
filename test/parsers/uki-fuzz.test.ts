/**
 * Malformed UKIs through the simulated kernel with the compiled UKI parser (issue 7): truncations, bit
 * flips in the PE headers and section table, section offsets and sizes set to edge values, overlapping
 * sections, huge VirtualSizes, piles of irrelevant sections, corrupted addons — a few hundred per run,
 * seeded (UKI_FUZZ_SEED=N replays, UKI_FUZZ_SEED=random explores). uki-fuzz-scenario.ts runs them in a
 * process of its own, so its fd count is exact and a hang is killed from here; every case must end with
 * 0 or a clean negative errno and a log line, within its time budget, with no kimage after a failure and
 * no kernel object or fd left behind, and the process must exit by itself.
 * The same run loads unmutated corpus cases (one per theme) as a control: through the whole
 * kexec_file_load path they must equal the systemd-stub reference.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FuzzReport } from './uki-fuzz-scenario.ts';

const SCENARIO = fileURLToPath(new URL('./uki-fuzz-scenario.ts', import.meta.url));

let run: { report: FuzzReport | undefined; signal: string | null; status: number | null; stderr: string };

beforeAll(() => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', SCENARIO], {
    encoding: 'utf8',
    timeout: 150_000,
    maxBuffer: 1 << 26,
  });
  const last = r.stdout.trim().split('\n').at(-1);
  run = {
    report: r.status === 0 && last ? (JSON.parse(last) as FuzzReport) : undefined,
    signal: r.signal,
    status: r.status,
    stderr: r.stderr,
  };
  const report = run.report;
  if (report === undefined) return;
  const table = Object.entries(report.kinds)
    .map(
      ([k, v]) =>
        `${k.padEnd(14)} ${String(v.cases).padStart(4)} cases, ${String(v.reached).padStart(4)} reached the parser: ` +
        Object.entries(v.outcomes)
          .map(([e, n]) => `${e} ${n}`)
          .join(', '),
    )
    .join('\n');
  const control = report.control.filter((c) => c.mismatches.length === 0).length;
  console.log(
    `UKI fuzz, seed ${report.seed}: ${report.cases} cases, first program load ${report.loadMs} ms, slowest case ` +
      `${report.maxCaseMs} ms; control ${control}/${report.control.length} equal the reference; the stub reference ` +
      `agreed on ${report.reference.agreed}/${report.reference.compared} successful loads of mutated images\n${table}`,
  );
}, 160_000);

const finished = (): FuzzReport => {
  const progress = run.stderr.trim().split('\n');
  expect(run.signal, `killed (hang?) during: ${progress.at(-1)}\n${run.stderr.slice(-4000)}`).toBeNull();
  expect(run.status, run.stderr.slice(-4000)).toBe(0);
  if (run.report === undefined) throw new Error('the scenario printed no report');
  return run.report;
};

describe('malformed UKIs through kexec_file_load with the UKI parser', () => {
  it('end in success or a clean errno: no host exception, hang, half-built kimage or leaked fd', () => {
    const report = finished();
    expect(report.violations).toEqual([]);
    expect(report.cases).toBeGreaterThanOrEqual(200);
    expect(Object.values(report.kinds).reduce((n, k) => n + k.cases, 0)).toBe(report.cases);
    // the parser itself saw malformed input, not only the kernel's own PE checks
    expect(Object.values(report.kinds).reduce((n, k) => n + k.reached, 0)).toBeGreaterThan(report.cases / 3);
    expect(report.fdsLeaked).toEqual([]);
  });

  it('unmutated corpus cases (one per theme) through the whole kexec_file_load path equal the reference', () => {
    const report = finished();
    expect(report.control.length).toBeGreaterThanOrEqual(13);
    const bad = report.control
      .filter((c) => c.mismatches.length > 0)
      .map(
        (c) => `case ${c.index} (${c.theme}; UKI_CASE=${c.index}): errno ${c.errno}\n  ${c.mismatches.join('\n  ')}`,
      );
    expect(bad, bad.join('\n')).toEqual([]);
  });
});
