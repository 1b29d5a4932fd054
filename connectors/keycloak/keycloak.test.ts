import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import { processUsedTotpWindows } from '../../core/totp/totp-codes.ts';
import { FileResultSink } from '../../operator/runner/file-sink.ts';
import { ConnectorRunKit, expectStopped, type RunAccount } from '../sdk/testing/run-kit.ts';
import type { ConnectorContext } from '../sdk/connector.ts';
import { codesSince, expectNoSecrets } from '../sdk/testing/secrets.ts';
import { InMemoryStore } from '../../test/automation/in-memory-store.ts';
import { RunCodeService } from '../../test/runner/run-code-service.ts';
import { startKeycloak, type KeycloakServer } from '../../test/apps/keycloak/server.ts';
import { allowedLoginHostsEnv } from '../sdk/deployment-hosts.ts';
import { selectorsEnv } from '../sdk/deployment-selectors.ts';
import { RESTYLED_SELECTORS, RESTYLED_THEME } from '../../test/apps/keycloak/theme.ts';
import { createLogger } from '../../core/logging/logger.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { BrowserSession } from '../sdk/browser.ts';
import { reasonOf } from '../sdk/testing/reasons.ts';
import { recoveryCodeFactor } from '../sdk/testing/recovery-codes.ts';
import { keycloakConnector } from './connector.ts';

/**
 * The keycloak connector end to end: a real Keycloak (test/apps/keycloak, started once for the
 * file), real Chromium, the runner with its file-backed sink. Tests run in order and the later
 * ones use the account the first one enrolled: each Keycloak round trip costs tens of seconds.
 */

const REALM = 'acme';
/** A realm whose login theme renames the fields, the sign-in button and the setup page's elements. */
const RESTYLED_REALM = 'restyled';
/** Recovery codes at sign-in and the default maximum age of authentication: a fresh login deletes without asking again. */
const FALLBACK_REALM = 'fallback';
const PAGE_TIMEOUT_MS = 60_000;

describe('keycloak connector against a real Keycloak in Chromium', () => {
  let keycloak: KeycloakServer;
  let kit: ConnectorRunKit;
  let browser: Browser;
  let users = 0;
  // Runs sign in with the stored seed through the operator's run endpoint, as Jobs do: they never hold it.
  let codeService: RunCodeService;
  const store = new InMemoryStore();

  beforeAll(async () => {
    process.env[allowedLoginHostsEnv('keycloak')] = '127.0.0.1';
    [keycloak, kit] = await Promise.all([startKeycloak({ restyledTheme: true }), ConnectorRunKit.start('keycloak')]);
    browser = kit.browser;
    codeService = await RunCodeService.start(kit.dir, store);
    // Deleting a credential re-asks for password and code once the login is a second old, so
    // the disable test goes through Keycloak's re-authentication.
    await keycloak.createRealm(REALM, { recoveryCodeLogin: true, maxAuthAgeSeconds: { delete_credential: 1 } });
    await keycloak.createRealm(RESTYLED_REALM, { loginTheme: RESTYLED_THEME, recoveryCodeLogin: true });
    await keycloak.createRealm(FALLBACK_REALM, { recoveryCodeLogin: true });
  }, 900_000);

  afterAll(async () => {
    await codeService?.stop();
    await kit?.close();
    await keycloak?.stop();
  });

  const connectorLogLines: string[] = [];

  /** The connector on its own, in a fresh context behind the host guard, as the runner would call it. */
  async function withConnectorPage<T>(use: (ctx: ConnectorContext) => Promise<T>): Promise<T> {
    const logger = createLogger(
      'keycloak-connector',
      {},
      new Writable({
        write(chunk, _encoding, done) {
          connectorLogLines.push(String(chunk));
          done();
        },
      }),
    );
    const session = await BrowserSession.open(browser, { allowedHosts: keycloakConnector.allowedLoginHosts, logger });
    const credentials = { username: '', password: new SecretValue('') };
    try {
      return await use({
        page: session.page,
        loginUrl: new URL(`${keycloak.url}/realms/${FALLBACK_REALM}/account`),
        logger,
        timeouts: { navigationMs: PAGE_TIMEOUT_MS, actionMs: 20_000 },
        stepUp: { credentials },
      });
    } finally {
      await session.close();
    }
  }

  async function newAccount(requiredActions: string[] = [], realm = REALM): Promise<RunAccount> {
    const n = ++users;
    const username = `user${n}`;
    const password = `pw-${n}-${Math.random().toString(36).slice(2)}`;
    await keycloak.createUser(realm, username, password, { requiredActions });
    return kit.account(username, password, `${keycloak.url}/realms/${realm}/account`, {
      timeouts: { navigationMs: PAGE_TIMEOUT_MS, actionMs: 20_000 },
    });
  }

  let enrolled: RunAccount;
  let enrolledAt: number;

  it('turns MFA on through the runner and stores the seed and the recovery codes', async () => {
    enrolled = await newAccount();
    enrolledAt = Date.now();

    const summary = await enrolled.run();

    expect(summary).toMatchObject({
      outcome: 'Enabled',
      connector: { id: 'keycloak' },
      seed: { algorithm: 'SHA1', digits: 6, period: 30 },
      recoveryCodeCount: 12,
    });
    expect(await keycloak.credentialTypes(REALM, enrolled.username)).toEqual(
      expect.arrayContaining(['otp', 'recovery-authn-codes']),
    );
    const stored = await enrolled.sink.readSeed();
    expect(stored?.state).toBe('confirmed');
    expect(stored?.seed.issuer).toBe(REALM);
    const codes = (await enrolled.sink.readRecoveryCodes())?.reveal() ?? [];
    expect(codes).toHaveLength(12);
    expectNoSecrets([JSON.stringify(summary), ...enrolled.logLines], {
      strings: [enrolled.password, stored!.seed.secret.reveal(), ...codes],
      codes: codesSince(stored!.seed, enrolledAt),
    });
  }, 300_000);

  it('lets a person sign in to the account console with a code generated from the stored seed', async () => {
    const { seed } = (await enrolled.sink.readSeed())!;
    await withPage(browser, async (page) => {
      await submitPassword(page, keycloak.url, enrolled);
      await page.locator('#otp').fill(codeFor(seed, Date.now() + seed.period * 1000));
      await page.locator('#kc-login').click();
      await page.getByTestId('page-heading').waitFor({ state: 'visible' });
    });
  }, 180_000);

  it('lets a person sign in once with the first stored recovery code, which Keycloak then counts as used', async () => {
    const [first] = (await enrolled.sink.readRecoveryCodes())!.reveal();
    await withPage(browser, async (page) => {
      await submitPassword(page, keycloak.url, enrolled);
      await page.locator('#try-another-way').click();
      await page.getByRole('button', { name: /recovery authentication code/i }).click();
      expect(await page.locator('label[for="recoveryCodeInput"]').innerText()).toContain('#1');
      await page.locator('#recoveryCodeInput').fill(first!);
      await page.locator('#kc-login').click();
      await page.getByTestId('page-heading').waitFor({ state: 'visible' });
      await page.goto(`${keycloak.url}/realms/${REALM}/account/account-security/signing-in`);
      await page.getByText('1/12 recovery codes used').waitFor({ state: 'visible' });
    });
  }, 180_000);

  it('reports MfaAlreadyEnabled when the account has an authenticator and no seed is stored', async () => {
    const summary = await enrolled.run({}, new FileResultSink(join(kit.dir, 'empty-sink')));

    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'MfaAlreadyEnabled', retryable: false });
  }, 180_000);

  it('verifies, then turns MFA off with the stored seed, re-authenticating before each deletion', async () => {
    // What the harvest does with the enrolled seed: active in the store.
    const ref = { namespace: 'default', name: 'keycloak', uid: randomUUID() };
    await store.promotePendingSeed(
      ref,
      (await store.writePendingSeed(ref, (await enrolled.sink.readSeed())!.seed)).version,
    );

    const verified = await enrolled.run({ action: 'verify', codeService: await codeService.run(ref) });
    const disabled = await enrolled.run({ action: 'disable', codeService: await codeService.run(ref) });

    expect(verified).toMatchObject({ outcome: 'Verified' });
    expect(disabled).toMatchObject({ outcome: 'Disabled' });
    expect(await keycloak.credentialTypes(REALM, enrolled.username)).toEqual(['password']);
    expect((await enrolled.sink.readSeed())?.state).toBe('disabled');
  }, 400_000);

  it('enrolls from the sign-in page when the realm makes the user set up an authenticator (Configure OTP)', async () => {
    const account = await newAccount(['CONFIGURE_TOTP']);

    const summary = await account.run();

    expect(summary).toMatchObject({ outcome: 'Enabled', recoveryCodeCount: 12 });
    expect(await keycloak.credentialTypes(REALM, account.username)).toEqual(
      expect.arrayContaining(['otp', 'recovery-authn-codes']),
    );
    expect((await account.sink.readSeed())?.state).toBe('confirmed');
  }, 300_000);

  it('fails a wrong password with InvalidCredentials and leaves MFA off', async () => {
    const account = await newAccount();
    await account.breakPassword();

    const summary = await account.run();

    await expectStopped(summary, account, 'InvalidCredentials');
    expect(await keycloak.userHasOtp(REALM, account.username)).toBe(false);
  }, 180_000);

  it('refuses a login URL on a host the cluster admin did not list', async () => {
    const account = await newAccount();

    const summary = await account.run({ loginUrl: account.spec.loginUrl!.replace('127.0.0.1', 'localhost') });

    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'LoginHostNotAllowed' });
  });

  it('fails a login theme that renames the fields with ConnectorOutdated, naming the setting that fixes it', async () => {
    const account = await newAccount([], RESTYLED_REALM);

    const summary = await account.run();

    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'ConnectorOutdated', retryable: false });
    expect(summary.message).toContain(
      '"#password" (a login theme that renames it needs connectors.keycloak.selectors.password)',
    );
    expect(await keycloak.userHasOtp(RESTYLED_REALM, account.username)).toBe(false);
  }, 180_000);

  it('turns MFA on and signs in with a code behind the restyled theme once connectors.keycloak.selectors names its elements', async () => {
    process.env[selectorsEnv('keycloak')] = JSON.stringify(RESTYLED_SELECTORS);
    try {
      const account = await newAccount([], RESTYLED_REALM);
      const startedAt = Date.now();

      const enabled = await account.run();
      expect(enabled).toMatchObject({ outcome: 'Enabled', recoveryCodeCount: 12 });
      const stored = (await account.sink.readSeed())!;
      const ref = { namespace: 'default', name: 'keycloak-restyled', uid: randomUUID() };
      await store.promotePendingSeed(ref, (await store.writePendingSeed(ref, stored.seed)).version);
      // The renamed one-time code field and button, on the sign-in a verify run takes.
      const verified = await account.run({ action: 'verify', codeService: await codeService.run(ref) });

      expect(verified).toMatchObject({ outcome: 'Verified' });
      expect(await keycloak.credentialTypes(RESTYLED_REALM, account.username)).toEqual(
        expect.arrayContaining(['otp', 'recovery-authn-codes']),
      );
      expectNoSecrets([JSON.stringify(enabled), JSON.stringify(verified), ...account.logLines], {
        strings: [account.password, stored.seed.secret.reveal(), ...(await account.sink.readRecoveryCodes())!.reveal()],
        codes: codesSince(stored.seed, startedAt),
      });
    } finally {
      delete process.env[selectorsEnv('keycloak')];
    }
  }, 400_000);

  it('signs in with the recovery code at the position Keycloak names ("#N"), and a wrong position fails clearly', async () => {
    const account = await newAccount([], FALLBACK_REALM);
    const startedAt = Date.now();
    expect(await account.run()).toMatchObject({ outcome: 'Enabled', recoveryCodeCount: 12 });
    const codes = (await account.sink.readRecoveryCodes())!.reveal();
    const { seed } = (await account.sink.readSeed())!;
    // A person used #1 by hand, so Keycloak now asks for #2.
    await withPage(browser, async (page) => {
      await submitPassword(page, keycloak.url, account, FALLBACK_REALM);
      await page.locator('#try-another-way').click();
      await page.getByRole('button', { name: /recovery authentication code/i }).click();
      await page.locator('#recoveryCodeInput').fill(codes[0]!);
      await page.locator('#kc-login').click();
      await page.getByTestId('page-heading').waitFor({ state: 'visible' });
    });
    const credentials = { username: account.username, password: new SecretValue(account.password) };

    // The right position: the connector asks for index 1 and signs in.
    const asked: (number | 'any')[] = [];
    await withConnectorPage(async (ctx) => {
      await keycloakConnector.login(ctx, credentials, recoveryCodeFactor(codes, asked));
    });
    // Keycloak now asks for #3; a factor whose codes are one position off answers it with #4's code.
    const shifted = [...codes.slice(1), codes[0]!];
    const wrong = await withConnectorPage((ctx) =>
      reasonOf(keycloakConnector.login(ctx, credentials, recoveryCodeFactor(shifted, asked))),
    );

    expect(asked).toEqual([1, 2]);
    expect(wrong).toBe('InvalidCredentials');
    expectNoSecrets([...account.logLines, ...connectorLogLines], {
      strings: [account.password, seed.secret.reveal(), ...codes],
      codes: codesSince(seed, startedAt),
    });
  }, 600_000);

  /** An enrolled account whose store holds a seed Keycloak does not know (restored from the wrong backup), and its codes. */
  async function accountWithRefusedSeed(name: string) {
    const account = await newAccount([], FALLBACK_REALM);
    expect(await account.run()).toMatchObject({ outcome: 'Enabled', recoveryCodeCount: 12 });
    const codes = (await account.sink.readRecoveryCodes())!.reveal();
    const real = (await account.sink.readSeed())!.seed;
    const ref = { namespace: 'default', name, uid: randomUUID() };
    const wrongSeed = { ...real, secret: new SecretValue('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP') };
    await store.promotePendingSeed(ref, (await store.writePendingSeed(ref, wrongSeed)).version);
    await store.writeRecoveryCodes(ref, new SecretValue(codes));
    return { account, codes, real, ref };
  }

  it('disables with one recovery code from the run endpoint when Keycloak refuses the stored seed', async () => {
    const { account, codes, real, ref } = await accountWithRefusedSeed('fallback');
    const startedAt = Date.now();

    const verified = await account.run({
      action: 'verify',
      codeService: await codeService.run(ref, 'fb-verify-1', 'verify'),
    });
    const usedByVerify = [...codeService.usedRecoveryCodes(ref)];
    const disabled = await account.run({
      action: 'disable',
      codeService: await codeService.run(ref, 'fb-disable-1', 'disable'),
    });

    // A verification changes nothing: refused, and no recovery code claimed.
    expect(verified).toMatchObject({ outcome: 'Failed', reason: 'SeedRejected' });
    expect(usedByVerify).toEqual([]);
    expect(disabled).toMatchObject({ outcome: 'Disabled' });
    expect(disabled.message).toContain('signed in with recovery code #1');
    expect(await keycloak.credentialTypes(FALLBACK_REALM, account.username)).toEqual(['password']);
    expect(codeService.usedRecoveryCodes(ref)).toEqual([0]);
    expect(codeService.history(ref)[0]).toMatchObject({
      user: 'system:serviceaccount:default:fb-disable-1',
      recoveryCodeIndex: 0,
    });
    expectNoSecrets([JSON.stringify(verified), JSON.stringify(disabled), ...account.logLines, ...codeService.lines], {
      strings: [account.password, real.secret.reveal(), ...codes],
      codes: codesSince(real, startedAt),
    });
  }, 600_000);

  it('rotates with one recovery code when Keycloak refuses the stored seed: a new seed and new codes sign in', async () => {
    const { account, codes, real, ref } = await accountWithRefusedSeed('fallback-rotate');
    const startedAt = Date.now();

    const rotated = await account.run({
      action: 'rotate',
      codeService: await codeService.run(ref, 'fb-rotate-1', 'rotate'),
    });
    const fresh = (await account.sink.readSeed())!;
    const newCodes = (await account.sink.readRecoveryCodes())!.reveal();

    expect(rotated).toMatchObject({ outcome: 'Enabled', recoveryCodeCount: 12 });
    expect(rotated.message).toContain('signed in with recovery code #1');
    expect(fresh.state).toBe('confirmed');
    expect(fresh.seed.secret.reveal()).not.toBe(real.secret.reveal());
    expect(newCodes.filter((c) => codes.includes(c))).toEqual([]);
    expect((await keycloak.credentialTypes(FALLBACK_REALM, account.username)).sort()).toEqual([
      'otp',
      'password',
      'recovery-authn-codes',
    ]);
    expect(codeService.usedRecoveryCodes(ref)).toEqual([0]);
    // What the rotation stored is what Keycloak now asks for.
    await withPage(browser, async (page) => {
      await submitPassword(page, keycloak.url, account, FALLBACK_REALM);
      await page.locator('#otp').fill(codeFor(fresh.seed, Date.now() + fresh.seed.period * 1000));
      await page.locator('#kc-login').click();
      await page.getByTestId('page-heading').waitFor({ state: 'visible' });
    });
    expectNoSecrets([JSON.stringify(rotated), ...account.logLines, ...codeService.lines], {
      strings: [account.password, real.secret.reveal(), fresh.seed.secret.reveal(), ...codes, ...newCodes],
      codes: [...codesSince(real, startedAt), ...codesSince(fresh.seed, startedAt)],
    });
  }, 600_000);

  it('stops Keycloak without leaving a process behind', async () => {
    const pid = keycloak.pid;

    await keycloak.stop();

    expect(() => process.kill(-pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  }, 60_000);
});

async function withPage(browser: Browser, use: (page: Page) => Promise<void>): Promise<void> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(PAGE_TIMEOUT_MS);
    await use(page);
  } finally {
    await context.close();
  }
}

async function submitPassword(page: Page, url: string, account: RunAccount, realm = REALM): Promise<void> {
  await page.goto(`${url}/realms/${realm}/account`);
  await page.locator('#username').fill(account.username);
  await page.locator('#password').fill(account.password);
  await page.locator('#kc-login').click();
}

/**
 * Independent of the SDK's code source: what a person's authenticator app would show. Keycloak
 * refuses a code's window twice, so the window is marked used for the runner's later sign-ins.
 */
function codeFor(seed: TotpSeed, timestamp: number): string {
  processUsedTotpWindows.remember(seed, Math.floor(timestamp / (seed.period * 1000)));
  return TOTP.generate({
    secret: Secret.fromBase32(seed.secret.reveal()),
    algorithm: seed.algorithm,
    digits: seed.digits,
    period: seed.period,
    timestamp,
  });
}
