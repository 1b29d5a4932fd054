import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserSession } from '../../connectors/sdk/browser.ts';
import { demoConnector } from '../../connectors/demo/connector.ts';
import { generateTotpCode } from '../../core/totp/totp-codes.ts';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import { createLogger } from '../../core/logging/logger.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { InMemoryStore } from '../../test/automation/in-memory-store.ts';
import { codesSince, DemoRunFixture, expectNoSecrets, type DemoAccount } from '../../test/runner/demo-run-fixture.ts';
import { RunCodeService } from '../../test/runner/run-code-service.ts';

/** Sign in to the demo app in a fresh browser context with the next window's code (the app allows ±1 step). */
async function signInWithSeed(account: DemoAccount, seed: TotpSeed): Promise<void> {
  const session = await BrowserSession.open(account.fixture.browser, {
    allowedHosts: ['127.0.0.1'],
    logger: createLogger('t', { level: 'silent' }),
  });
  try {
    await demoConnector.login(
      {
        page: session.page,
        loginUrl: new URL(account.spec.loginUrl!),
        logger: createLogger('t', { level: 'silent' }),
        timeouts: { navigationMs: 10_000, actionMs: 5_000 },
        stepUp: { credentials: { username: account.email, password: new SecretValue(account.password) } },
      },
      { username: account.email, password: new SecretValue(account.password) },
      {
        totpCode: async () => generateTotpCode(seed, Date.now() + seed.period * 1000),
      },
    );
  } finally {
    await session.close();
  }
}

describe('performRun against the demo app in Chromium', () => {
  let fixture: DemoRunFixture;
  let codes: RunCodeService;
  const store = new InMemoryStore();
  beforeAll(async () => {
    fixture = await DemoRunFixture.start();
    codes = await RunCodeService.start(fixture.dir, store);
  });
  afterAll(async () => {
    await codes?.stop();
    await fixture?.close();
  });

  it('turns MFA on, stores seed and recovery codes, and the stored seed signs in', async () => {
    const account = await fixture.account();
    const started = Date.now();

    const summary = await account.run();

    expect(summary).toMatchObject({
      outcome: 'Enabled',
      reason: 'Enabled',
      seed: { algorithm: 'SHA1', digits: 6, period: 30 },
      recoveryCodeCount: 10,
    });
    expect(account.mfaEnabled()).toBe(true);
    const stored = await account.sink.readSeed();
    expect(stored?.state).toBe('confirmed');
    const codes = (await account.sink.readRecoveryCodes())!.reveal();
    expect(codes).toHaveLength(10);
    expect(fixture.app.accounts.status(account.email).mfa.recoveryCodesRemaining).toBe(10);
    await signInWithSeed(account, stored!.seed);
    expectNoSecrets([JSON.stringify(summary), ...account.logLines], {
      strings: [account.password, stored!.seed.secret.reveal(), ...codes],
      codes: codesSince(stored!.seed, started),
    });
  });

  it('reports every step with its duration, in order', async () => {
    const summary = await (await fixture.account()).run();
    expect(summary.steps.map((s) => s.name)).toEqual([
      'resolveLoginUrl',
      'readCredentials',
      'login',
      'readMfaState',
      'beginEnrollment',
      'storePendingSeed',
      'confirmEnrollment',
      'readRecoveryCodes',
      'storeRecoveryCodes',
      'acknowledgeRecoveryCodes',
      'markConfirmed',
    ]);
    for (const step of summary.steps) expect(step.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('verifies, then disables MFA with codes from the stored seed', async () => {
    const account = await fixture.account();
    expect((await account.run()).outcome).toBe('Enabled');
    // What the harvest does with the seed the run captured: active in the store.
    const ref = { namespace: 'default', name: 'acct', uid: randomUUID() };
    await store.promotePendingSeed(
      ref,
      (await store.writePendingSeed(ref, (await account.sink.readSeed())!.seed)).version,
    );

    const verified = await account.run({ action: 'verify', codeService: await codes.run(ref) });
    const disabled = await account.run({ action: 'disable', codeService: await codes.run(ref) });

    expect(verified).toMatchObject({ outcome: 'Verified' });
    expect(disabled).toMatchObject({ outcome: 'Disabled' });
    expect(account.mfaEnabled()).toBe(false);
  }, 120_000);

  it('refuses to disable without a stored seed', async () => {
    const empty = { namespace: 'default', name: 'acct', uid: randomUUID() };
    const asked = await (await fixture.account()).run({ action: 'disable', codeService: await codes.run(empty) });
    const unnamed = await (await fixture.account()).run({ action: 'disable' });

    for (const summary of [asked, unnamed])
      expect(summary).toMatchObject({ outcome: 'Failed', reason: 'SeedNotFound', retryable: false });
  });
});
