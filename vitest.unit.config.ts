import { globSync, readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * `make test-unit`: the test files that start nothing — no API server, node, browser, app or child
 * process — chosen by what they import, so a new test is sorted without a list to keep.
 */
const STARTS_SOMETHING = /envtest|support\/|test\/runner\/|test\/cluster\/(?!iptables)|test\/apps\/|gcp-secret-manager\/server|launchBrowser|BrowserSession|chromium|playwright|DemoRunFixture|startDemoApp|node:child_process|code-service-fixture|operator-process|runRunnerCli/i;
const INCLUDE = ['core/**/*.test.ts', 'operator/**/*.test.ts', 'connectors/**/*.test.ts', 'test/**/*.test.ts', 'hack/**/*.test.ts'];

export const unitTestFiles = INCLUDE.flatMap((pattern) => globSync(pattern, { exclude: (name) => name === 'node_modules' }))
  .filter((file) => !STARTS_SOMETHING.test(readFileSync(file, 'utf8')));

export default defineConfig({
  test: {
    include: unitTestFiles,
    reporters: [process.env.CI ? 'verbose' : 'default', './test/support/summary-reporter.ts'],
  },
});
