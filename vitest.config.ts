import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['operator/**/*.test.ts', 'connectors/**/*.test.ts', 'test/**/*.test.ts', 'hack/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Suites start real control planes and browsers; two cores cannot run many at once.
    maxWorkers: 2,
    // CI lists every test that ran; the summary reporter ends with a plain "N passed, N failed" line.
    reporters: [process.env.CI ? 'verbose' : 'default', './test/support/summary-reporter.ts'],
  },
});
