import { defineConfig } from 'vitest/config';

// Runs only the fixtures beside it, for summary-reporter.test.ts.
export default defineConfig({
  test: { include: ['*.fixture.ts'], reporters: ['../summary-reporter.ts'] },
});
