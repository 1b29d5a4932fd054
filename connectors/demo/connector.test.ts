import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logging/logger.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { startDemoApp, type DemoApp } from '../../test/apps/demo/demo-app.ts';
import type { HazardSettings } from '../../test/apps/demo/hazards.ts';
import { BrowserSession, launchBrowser } from '../sdk/browser.ts';
import type { ConnectorContext, Credentials } from '../sdk/connector.ts';
import { parseOtpauthUri } from '../sdk/otpauth-uri.ts';
import { reasonOf } from '../sdk/testing/reasons.ts';
import { recoveryCodeFactor } from '../sdk/testing/recovery-codes.ts';
import { demoConnector } from './connector.ts';

const logger = createLogger('demo-connector-test', { level: 'silent' });
const PASSWORD = 'correct horse battery';
const EXISTING_SEED = 'KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF';

describe('demo connector, step by step, in Chromium', () => {
  let app: DemoApp;
  let browser: Browser;
  let session: BrowserSession;
  let n = 0;

  beforeAll(async () => {
    [app, browser] = await Promise.all([startDemoApp({ logger }), launchBrowser()]);
  });
  afterAll(async () => {
    await Promise.all([browser?.close(), app?.stop()]);
  });
  beforeEach(async () => {
    session = await BrowserSession.open(browser, { allowedHosts: demoConnector.allowedLoginHosts, logger });
  });
  afterEach(async () => {
    await session.close();
  });

  function account(
    hazards: HazardSettings = {},
    stepUpPassword = PASSWORD,
  ): { ctx: ConnectorContext; credentials: Credentials; email: string } {
    const email = `step${++n}@example.com`;
    app.accounts.upsert({ email, password: PASSWORD, hazards });
    const credentials = { username: email, password: new SecretValue(PASSWORD) };
    const ctx: ConnectorContext = {
      page: session.page,
      loginUrl: new URL(`${app.url}/login`),
      logger,
      timeouts: { navigationMs: 15_000, actionMs: 5_000 },
      stepUp: { credentials: { username: email, password: new SecretValue(stepUpPassword) } },
    };
    return { ctx, credentials, email };
  }

  it('reads MFA off with no other methods, and SMS as another method', async () => {
    const plain = account();
    await demoConnector.login(plain.ctx, plain.credentials);
    expect(await demoConnector.readMfaState(plain.ctx)).toEqual({ totpEnabled: false, otherMethods: [] });

    await session.close();
    session = await BrowserSession.open(browser, { allowedHosts: demoConnector.allowedLoginHosts, logger });
    const sms = account({ otherMfaMethod: true });
    await demoConnector.login(sms.ctx, sms.credentials);
    expect(await demoConnector.readMfaState(sms.ctx)).toEqual({ totpEnabled: false, otherMethods: ['sms'] });
  });

  it('reads both the setup key and the QR code, which agree', async () => {
    const { ctx, credentials } = account();
    await demoConnector.login(ctx, credentials);
    const shown = await demoConnector.beginTotpEnrollment(ctx);
    expect(shown.textKey?.reveal()).toBe(parseOtpauthUri(shown.otpauthUri!).secret.reveal());
    expect(shown.defaults).toMatchObject({ algorithm: 'SHA1', digits: 6, period: 30 });
  });

  it('reads the QR code alone when the page offers no setup key', async () => {
    const { ctx, credentials } = account({ qrOnly: true });
    await demoConnector.login(ctx, credentials);
    const shown = await demoConnector.beginTotpEnrollment(ctx);
    expect(shown.textKey).toBeUndefined();
    expect(shown.otpauthUri?.reveal()).toMatch(/^otpauth:\/\/totp\//);
  });

  it('refuses a wrong confirmation code with EnrollmentRejected and leaves MFA off', async () => {
    const { ctx, credentials, email } = account();
    await demoConnector.login(ctx, credentials);
    await demoConnector.beginTotpEnrollment(ctx);
    expect(await reasonOf(demoConnector.confirmTotpEnrollment(ctx, new SecretValue('000000')))).toBe(
      'EnrollmentRejected',
    );
    expect(app.accounts.status(email).mfa.enabled).toBe(false);
  });

  it('reports StepUpRequired when the password confirmation refuses the stored password', async () => {
    const { ctx, credentials } = account({ stepUp: true }, 'not the password');
    await demoConnector.login(ctx, credentials);
    expect(await reasonOf(demoConnector.readMfaState(ctx))).toBe('StepUpRequired');
  });

  it('signs in with a recovery code when the caller chooses one', async () => {
    const { ctx, credentials } = account({ mfaAlreadyOn: { seed: EXISTING_SEED, recoveryCodes: ['aaaaa-11111'] } });
    const factor = recoveryCodeFactor(['aaaaa-11111']);
    await demoConnector.login(ctx, credentials, factor);
    expect((await demoConnector.readMfaState(ctx)).totpEnabled).toBe(true);
    // The demo app takes any unused code: the connector names no position.
    expect(factor.asked).toEqual(['any']);
  });

  it('refuses to turn off with a wrong code', async () => {
    const { ctx, credentials } = account({ mfaAlreadyOn: { seed: EXISTING_SEED, recoveryCodes: ['bbbbb-22222'] } });
    await demoConnector.login(ctx, credentials, recoveryCodeFactor(['bbbbb-22222']));
    expect(await reasonOf(demoConnector.disableTotp(ctx, new SecretValue('000000')))).toBe('EnrollmentRejected');
    // Signed in with a recovery code, there is no authenticator code for the turn-off form: a clear refusal.
    expect(await reasonOf(demoConnector.disableTotp(ctx, undefined))).toBe('ChallengeRequired');
  });

  it('regenerates the recovery codes behind the step-up: the new set replaces the old one', async () => {
    const { ctx, credentials, email } = account({
      stepUp: true,
      mfaAlreadyOn: { seed: EXISTING_SEED, recoveryCodes: ['ccccc-33333', 'ddddd-44444'] },
    });
    await demoConnector.login(ctx, credentials, recoveryCodeFactor(['ccccc-33333']));

    const fresh = (await demoConnector.regenerateRecoveryCodes!(ctx)).reveal();

    expect(fresh).toHaveLength(10);
    expect(fresh).not.toContain('ddddd-44444');
    expect(fresh.every((code) => /^[0-9a-f]{5}-[0-9a-f]{5}$/.test(code))).toBe(true);
    expect(app.accounts.status(email).mfa).toMatchObject({ enabled: true, recoveryCodesRemaining: 10 });
    await session.close();
    session = await BrowserSession.open(browser, { allowedHosts: demoConnector.allowedLoginHosts, logger });
    const again = { ...ctx, page: session.page };
    expect(await reasonOf(demoConnector.login(again, credentials, recoveryCodeFactor(['ddddd-44444'])))).toBe(
      'InvalidCredentials',
    );
    await demoConnector.login(again, credentials, recoveryCodeFactor([fresh[0]!]));
    expect(app.accounts.status(email).mfa.recoveryCodesRemaining).toBe(9);
  });

  it('reports ConnectorOutdated, changing nothing, when the account has no authenticator to regenerate codes for', async () => {
    const { ctx, credentials, email } = account();
    await demoConnector.login(ctx, credentials);
    expect(await reasonOf(demoConnector.regenerateRecoveryCodes!(ctx))).toBe('ConnectorOutdated');
    expect(app.accounts.status(email).mfa).toMatchObject({ enabled: false, recoveryCodesRemaining: 0 });
  });
});
