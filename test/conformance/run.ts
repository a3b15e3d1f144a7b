/**
 * `make conformance`: runs the bpf_conformance corpus through the project's stages and prints counts
 * per group and check, every failure, and a final `conformance: N passed, N failed, N skipped` line
 * (skipped: checks this runner cannot make yet, counted as pending per check above).
 * Exit status: 0 if nothing failed, 1 on any failure, 2 on a bad command line or a missing corpus.
 *
 *   node --import tsx test/conformance/run.ts --dir DIR [--filter REGEX] [--verbose]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { assemblyStage } from './assembly-stage.ts';
import { GROUPS, loadCorpus } from './corpus.ts';
import { executionStage } from './execute.ts';
import type { CheckResult, Stage } from './stage.ts';

/** The stages, in order. The execution stage replaces `executionPending` when it exists. */
const STAGES: readonly Stage[] = [assemblyStage, executionStage];

const usage = 'usage: run.ts --dir DIR [--filter REGEX] [--verbose]';

const parse = () =>
  parseArgs({
    options: {
      dir: { type: 'string' },
      filter: { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
  }).values;

const main = (): number => {
  let args: ReturnType<typeof parse>;
  try {
    args = parse();
  } catch (e) {
    process.stderr.write(`conformance: ${(e as Error).message}\n${usage}\n`);
    return 2;
  }
  const dir = args.dir;
  if (dir === undefined || !existsSync(join(dir, 'tests'))) {
    process.stderr.write(
      `conformance: ${dir === undefined ? '--dir is required' : `no tests/ folder in ${dir}`}\n${usage}\n`,
    );
    return 2;
  }
  const filter = args.filter === undefined ? undefined : new RegExp(args.filter);
  const corpus = loadCorpus(dir, filter);
  const results: CheckResult[] = corpus.flatMap((c) => STAGES.flatMap((s) => s.run(c)));

  for (const group of GROUPS) {
    const files = corpus.filter((c) => c.group === group).length;
    if (files === 0) continue;
    console.log(`${group}: ${files} files`);
    const mine = results.filter((r) => r.group === group);
    const checks = [...new Set(mine.map((r) => r.check))];
    for (const check of checks) {
      const of = mine.filter((r) => r.check === check);
      const passed = of.filter((r) => r.status === 'pass').length;
      const pending = of.filter((r) => r.status === 'pending').length;
      const note = pending > 0 ? `  (${pending} pending)` : '';
      console.log(`  ${check.padEnd(34)} ${String(passed).padStart(4)}/${of.length}${note}`);
    }
  }
  for (const r of results) {
    if (r.status === 'fail' || args.verbose) {
      const word = r.status.toUpperCase();
      console.log(`${word} ${r.group}/${r.file}: ${r.check}${r.detail ? `: ${r.detail}` : ''}`);
    }
  }
  const count = (s: CheckResult['status']) => results.filter((r) => r.status === s).length;
  const failed = count('fail');
  console.log(`conformance: ${count('pass')} passed, ${failed} failed, ${count('pending')} skipped`);
  return failed > 0 ? 1 : 0;
};

process.exitCode = main();
