import { defineConfig } from 'vitest/config';

// One cluster at a time per machine (test/cluster): the files that start one run one after another, after the rest.
const ONE_NODE_CLUSTER = ['test/cluster/**/*.test.ts', 'test/e2e/**/*.test.ts', 'connectors/allauth/through-operator.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // CI lists every test that ran; the summary reporter ends with a plain "N passed, N failed" line.
    reporters: [process.env.CI ? 'verbose' : 'default', './test/support/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'default',
          include: ['core/**/*.test.ts', 'operator/**/*.test.ts', 'connectors/**/*.test.ts', 'test/**/*.test.ts', 'hack/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...ONE_NODE_CLUSTER],
          // Suites start real control planes and browsers; two cores cannot run many at once.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'cluster', include: ONE_NODE_CLUSTER, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
