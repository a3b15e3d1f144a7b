/**
 * Prints every skipped test with the reason it gave, then one plain closing line
 * ("tests: N passed, N failed, N skipped") that CI and humans can read.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    const skipped: string[] = [];
    for (const mod of modules) {
      if (mod.state() === 'failed' && [...mod.children.allTests()].length === 0) failed++;
      for (const test of mod.children.allTests()) {
        const r = test.result();
        if (r.state === 'passed') passed++;
        else if (r.state === 'failed') failed++;
        else if (r.state === 'skipped') skipped.push(`${test.fullName}: ${r.note ?? 'no reason given'}`);
      }
    }
    if (skipped.length > 0) {
      process.stdout.write(`\nskipped tests (${skipped.length}):\n`);
      for (const s of skipped) process.stdout.write(`  SKIP ${s}\n`);
    }
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped.length} skipped\n`);
  }
}
