import type { Reporter, TestModule } from 'vitest/node';

/** The counts of a finished run, with a file that failed to load or an unhandled error counted as a failure. */
export function runCounts(
  modules: ReadonlyArray<TestModule>,
  unhandledErrors: number,
): { passed: number; failed: number; skipped: number } {
  const counts = { passed: 0, failed: unhandledErrors, skipped: 0 };
  for (const module of modules) {
    let tests = 0;
    for (const test of module.children.allTests()) {
      tests++;
      const state = test.result().state;
      if (state === 'passed') counts.passed++;
      else if (state === 'failed') counts.failed++;
      else counts.skipped++;
    }
    if (tests === 0 && module.state() === 'failed') counts.failed++;
  }
  return counts;
}

/** Ends the run with one plain line, "tests: N passed, N failed, N skipped", that CI can read. */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const { passed, failed, skipped } = runCounts(modules, unhandledErrors.length);
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
