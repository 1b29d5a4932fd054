import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['operator/**/*.test.ts', 'connectors/**/*.test.ts', 'test/**/*.test.ts', 'hack/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Suites start real control planes and browsers; two cores cannot run many at once.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
