import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { ConnectorRunKit } from './run-kit.ts';

// Before the imports run: the browser module reads the Chromium path when it loads.
vi.hoisted(() => {
  process.env.MFA_CHROMIUM_PATH = '/nonexistent/chromium';
});

describe('ConnectorRunKit.start', () => {
  it('leaves no scratch directory behind when Chromium cannot start', async () => {
    const scratch = async () => (await readdir(tmpdir())).filter((name) => name.startsWith('mfa-kitstart-test-'));

    await expect(ConnectorRunKit.start('kitstart')).rejects.toThrow(/nonexistent/);

    expect(await scratch()).toEqual([]);
  });
});
