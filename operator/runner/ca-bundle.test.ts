import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoRunFixture, expectNoSecrets } from '../../test/runner/demo-run-fixture.ts';
import { createTestCa, type TestCa } from '../../test/support/test-ca.ts';

// The demo app over HTTPS with a certificate from a throwaway CA, driven by real Chromium.
describe('a run trusts the CAs of its run spec (spec.account.caBundleRef), and only that run', () => {
  let tls: TestCa;
  let fixture: DemoRunFixture;
  beforeAll(async () => {
    tls = await createTestCa();
    fixture = await DemoRunFixture.start({ tls: { cert: tls.serving.cert, key: tls.serving.key } });
  });
  afterAll(async () => {
    await fixture?.close();
    await tls?.remove();
  });

  it("enrols over HTTPS when the run spec carries the CA that signed the app's certificate", async () => {
    const account = await fixture.account();
    expect(account.spec.loginUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/login$/);

    const summary = await account.run({ caBundle: tls.ca.cert });

    expect(summary).toMatchObject({ outcome: 'Enabled' });
    expect(summary.steps.map((s) => s.name).slice(0, 4)).toEqual([
      'resolveLoginUrl',
      'readCredentials',
      'trustCaBundle',
      'startBrowser',
    ]);
    expect(account.mfaEnabled()).toBe(true);
  });

  it('without a CA bundle, fails with TLSUntrusted naming spec.account.caBundleRef (not a Timeout), and MFA stays off', async () => {
    const account = await fixture.account();

    const summary = await account.run();

    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'TLSUntrusted', retryable: false });
    expect(summary.message).toMatch(
      /does not trust the TLS certificate of 127\.0\.0\.1:\d+ \(net::ERR_CERT_AUTHORITY_INVALID\)/,
    );
    expect(summary.message).toContain('spec.account.caBundleRef');
    expect(fixture.app.accounts.status(account.email).mfa.enabled).toBe(false);
    expectNoSecrets([JSON.stringify(summary), ...account.logLines], { strings: [account.password] });
  });

  it("with a CA that did not sign the app's certificate, fails the same way", async () => {
    const summary = await (await fixture.account()).run({ caBundle: tls.otherCa.cert });

    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'TLSUntrusted' });
    expect(summary.message).toContain('net::ERR_CERT_AUTHORITY_INVALID');
  });

  it('the trust ends with its run: browsers started before or after it, without the bundle, still refuse the app', async () => {
    expect((await (await fixture.account()).run({ caBundle: tls.ca.cert })).outcome).toBe('Enabled');

    const ownBrowser = await (await fixture.account()).run({}, undefined, { browser: undefined });
    const sharedBrowser = await (await fixture.account()).run();

    expect(ownBrowser).toMatchObject({ outcome: 'Failed', reason: 'TLSUntrusted' });
    expect(ownBrowser.steps.map((s) => s.name)).not.toContain('trustCaBundle');
    expect(sharedBrowser).toMatchObject({ outcome: 'Failed', reason: 'TLSUntrusted' });
    expect(
      (await readdir(tmpdir())).filter((f) => f.startsWith('mfa-browser-home-')),
      "the run's trust store is removed",
    ).toEqual([]);
  });

  it('refuses a bundle that is not CA certificates before starting a browser', async () => {
    const summary = await (await fixture.account()).run({ caBundle: tls.serving.cert });

    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'CABundleInvalid', retryable: false });
    expect(summary.message).toMatch(/spec\.account\.caBundleRef .*is not a CA certificate/);
    expect(summary.steps.map((s) => s.name)).not.toContain('startBrowser');
  });
});
