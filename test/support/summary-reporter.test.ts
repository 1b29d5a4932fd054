import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO } from './cluster.ts';
import { runCommand } from './command.ts';

const FIXTURE = fileURLToPath(new URL('./summary-fixture/', import.meta.url));

describe('summary reporter', () => {
  it('ends a run with one plain line counting a file that fails to load as a failure', async () => {
    const result = await runCommand(
      process.execPath,
      [`${REPO}/node_modules/vitest/vitest.mjs`, 'run', '--root', FIXTURE],
      { cwd: FIXTURE },
    );

    expect(result.code).toBe(1);
    expect(result.stdout.trim().split('\n').at(-1)).toBe('tests: 1 passed, 2 failed, 1 skipped');
  });
});
