import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import { processUsedTotpWindows } from '../../core/totp/totp-codes.ts';
import { FileResultSink } from '../../operator/runner/file-sink.ts';
import { ConnectorRunKit, expectStopped, type RunAccount } from '../sdk/testing/run-kit.ts';
import { codesSince, expectNoSecrets } from '../sdk/testing/secrets.ts';
import { InMemoryStore } from '../../test/automation/in-memory-store.ts';
import { RunCodeService } from '../../test/runner/run-code-service.ts';
import { startKeycloak, type KeycloakServer } from '../../test/apps/keycloak/server.ts';
import { allowedLoginHostsEnv } from '../sdk/deployment-hosts.ts';
import { selectorsEnv } from '../sdk/deployment-selectors.ts';
import { RESTYLED_SELECTORS, RESTYLED_THEME } from '../../test/apps/keycloak/theme.ts';

/**
 * The keycloak connector end to end: a real Keycloak (test/apps/keycloak, started once for the
 * file), real Chromium, the runner with its file-backed sink. Tests run in order and the later
 * ones use the account the first one enrolled: each Keycloak round trip costs tens of seconds.
 */

const REALM = 'acme';
/** A realm whose login theme renames the fields, the sign-in button and the setup page's elements. */
const RESTYLED_REALM = 'restyled';
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
  }, 900_000);

  afterAll(async () => {
    await codeService?.stop();
    await kit?.close();
    await keycloak?.stop();
  });

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

async function submitPassword(page: Page, url: string, account: RunAccount): Promise<void> {
  await page.goto(`${url}/realms/${REALM}/account`);
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
