import { globSync, readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * Three projects, each file in exactly one (docs/development.md, "Test projects"):
 * - unit: starts nothing (no API server, node, browser, app, child process or socket) and needs no build;
 *   `make test-unit` runs only these, and test/support/starts-nothing.ts fails any that tries;
 * - cluster: the files that start the one-node cluster (test/cluster), one at a time after the rest;
 * - integration: everything else (a real API server, Chromium, the apps), after `tsc` built dist/.
 * A file is sorted by what it uses, so a new test needs no list: one that names any of these is not a unit test.
 */
const STARTS_SOMETHING =
  /envtest|support\/|test\/runner\/|test\/cluster\/(?!iptables)|test\/apps\/|gcp-secret-manager\/server|TestServer|launchBrowser|BrowserSession|chromium|playwright|DemoRunFixture|startDemoApp|node:child_process|runCommand|code-service-fixture|operator-process|runRunnerCli|ensurePackagingTools|renderChart/i;
const TESTS = [
  'core/**/*.test.ts',
  'operator/**/*.test.ts',
  'connectors/**/*.test.ts',
  'test/**/*.test.ts',
  'hack/**/*.test.ts',
];
// One cluster at a time per machine (test/cluster): these share one host claim.
const ONE_NODE_CLUSTER = [
  'test/cluster/**/*.test.ts',
  'test/e2e/**/*.test.ts',
  'connectors/*/through-operator.test.ts',
];

const files = (patterns: string[]) =>
  patterns.flatMap((p) => globSync(p, { exclude: (name) => name === 'node_modules' }));
const unit = files(TESTS).filter((file) => !STARTS_SOMETHING.test(readFileSync(file, 'utf8')));
const cluster = files(ONE_NODE_CLUSTER).filter((file) => !unit.includes(file));
const integration = files(TESTS).filter((file) => !unit.includes(file) && !cluster.includes(file));
// Run Jobs execute dist/operator/runner/main.js: only the projects that start things build it first.
const BUILD_DIST = ['test/support/global-setup.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // CI lists every test that ran; the summary reporter ends with a plain "N passed, N failed" line.
    reporters: [process.env.CI ? 'verbose' : 'default', './test/support/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: unit,
          setupFiles: ['test/support/starts-nothing.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        // Suites start real control planes and browsers; two cores cannot run many at once.
        test: {
          name: 'integration',
          include: integration,
          globalSetup: BUILD_DIST,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: cluster,
          globalSetup: BUILD_DIST,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
