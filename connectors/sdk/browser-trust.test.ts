import { execFile } from 'node:child_process';
import { access, mkdtemp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../../test/support/test-ca.ts';
import { createTrustHome, TrustStoreError } from './browser-trust.ts';
import { parseCaBundle } from '../../core/tls/ca-bundle.ts';

const run = promisify(execFile);
let tls: TestCa;
beforeAll(async () => {
  tls = await createTestCa();
});
afterAll(async () => {
  await tls?.remove();
});

const gone = (path: string) =>
  access(path).then(
    () => false,
    () => true,
  );

async function failure(work: Promise<unknown>): Promise<TrustStoreError> {
  const e = await work.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(e instanceof TrustStoreError)) throw new Error(`expected a TrustStoreError, got ${String(e)}`);
  return e;
}

describe('createTrustHome', () => {
  it('writes an NSS database that trusts each CA for TLS servers (C,,), removed by dispose', async () => {
    const home = await createTrustHome(parseCaBundle(tls.ca.cert + tls.otherCa.cert, new Date()));

    const { stdout } = await run('certutil', ['-L', '-d', `sql:${join(home.home, '.pki', 'nssdb')}`]);
    expect(stdout).toMatch(/mfa-operator-ca-1\s+C,,/);
    expect(stdout).toMatch(/mfa-operator-ca-2\s+C,,/);
    await home.dispose();
    expect(await gone(home.home)).toBe(true);
  });

  it('says certutil is missing (libnss3-tools), and leaves nothing behind', async () => {
    const parent = await mkdtemp(join(tls.dir, 'homes-'));

    const e = await failure(
      createTrustHome(parseCaBundle(tls.ca.cert, new Date()), { certutil: '/nonexistent/certutil', parent }),
    );

    expect(e.toolMissing).toBe(true);
    expect(e.message).toBe(
      'Could not create the browser trust store: /nonexistent/certutil is not installed (Debian package libnss3-tools).',
    );
    expect(await readdir(parent)).toEqual([]);
  });

  it('says which certificate certutil refused, and leaves nothing behind', async () => {
    const parent = await mkdtemp(join(tls.dir, 'homes-'));

    const e = await failure(createTrustHome([{ pem: 'not a certificate', subject: 'CN=broken' }], { parent }));

    expect(e.toolMissing).toBe(false);
    expect(e.message).toBe('Could not add certificate 1 (CN=broken): certutil refused it.');
    expect(await readdir(parent)).toEqual([]);
  });
});
