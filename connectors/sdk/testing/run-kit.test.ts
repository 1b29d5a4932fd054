import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appAbsence } from './run-kit.ts';

describe('appAbsence', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mfa-kit-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds an app whose paths all exist', async () => {
    expect(await appAbsence('Acme', [dir], 'run hack/fetch-acme.sh')).toBeUndefined();
  });

  it('says which path is missing and how to provide it', async () => {
    const missing = join(dir, 'acme-url');
    expect(await appAbsence('Acme', [dir, missing], 'write the URL of a test tenant there')).toBe(
      `Acme is not available here (${missing} is missing): write the URL of a test tenant there`,
    );
  });
});
