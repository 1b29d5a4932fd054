import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectors } from '../index.ts';
import { launchBrowser } from '../sdk/browser.ts';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import { TotpCodeSource } from '../../core/totp/totp-codes.ts';
import { createLogger } from '../../core/logging/logger.ts';
import { FileResultSink } from '../../operator/runner/file-sink.ts';
import type { OutcomeSummary } from '../../operator/run-contract/outcome.ts';
import { performRun } from '../../operator/runner/run.ts';
import type { RunSpec } from '../../operator/run-contract/run-spec.ts';
import { InMemoryStore } from '../../test/automation/in-memory-store.ts';
import { codesSince, expectNoSecrets } from '../../test/runner/demo-run-fixture.ts';
import { RunCodeService } from '../../test/runner/run-code-service.ts';
import { startAllauth, type AllauthServer } from '../../test/apps/allauth/server.ts';
import { allowedLoginHostsEnv } from '../sdk/deployment-hosts.ts';

/**
 * The allauth connector end to end: the test site of test/apps/allauth (django-allauth's MFA on
 * Django, started once for the file), real Chromium, the runner with its file-backed sink. Tests
 * run in order; the later ones use the account the first one enrolled.
 */

const PAGE_TIMEOUT_MS = 30_000;

interface Account {
  username: string;
  password: string;
  spec: RunSpec;
  sink: FileResultSink;
  logLines: string[];
}

describe('allauth connector against a real django-allauth site in Chromium', () => {
  let site: AllauthServer;
  let browser: Browser;
  let dir: string;
  let users = 0;
  // Runs sign in with the stored seed through the operator's run endpoint, as Jobs do: they never hold it.
  let codeService: RunCodeService;
  const store = new InMemoryStore();
  const ref = { namespace: 'default', name: 'allauth', uid: randomUUID() };

  beforeAll(async () => {
    process.env[allowedLoginHostsEnv('allauth')] = '127.0.0.1';
    dir = await mkdtemp(join(tmpdir(), 'mfa-allauth-test-'));
    [site, browser, codeService] = await Promise.all([
      startAllauth(),
      launchBrowser(),
      RunCodeService.start(dir, store),
    ]);
  }, 900_000);

  /** What the harvest does with a seed the run confirmed: it becomes the store's active seed. */
  async function storeActive(seed: TotpSeed): Promise<void> {
    await store.promotePendingSeed(ref, (await store.writePendingSeed(ref, seed)).version);
  }

  afterAll(async () => {
    await codeService?.stop();
    await browser?.close();
    await site?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function newAccount(on: AllauthServer = site): Promise<Account> {
    const n = ++users;
    const username = `user${n}`;
    const password = `pw-${n}-${Math.random().toString(36).slice(2)}`;
    await on.createUser(username, password);
    await writeFile(join(dir, `username-${n}`), `${username}\n`, { mode: 0o600 });
    await writeFile(join(dir, `password-${n}`), `${password}\n`, { mode: 0o600 });
    const resultDir = join(dir, `result-${n}`);
    const spec: RunSpec = {
      connector: 'allauth',
      loginUrl: on.loginUrl,
      credentials: { usernameFile: join(dir, `username-${n}`), passwordFile: join(dir, `password-${n}`) },
      sink: { type: 'file', dir: resultDir },
      action: 'enable',
      timeouts: { navigationMs: PAGE_TIMEOUT_MS, actionMs: 10_000 },
    };
    return { username, password, spec, sink: new FileResultSink(resultDir), logLines: [] };
  }

  async function run(account: Account, overrides: Partial<RunSpec> = {}): Promise<OutcomeSummary> {
    const lines = account.logLines;
    const logger = createLogger(
      'runner',
      {},
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    return performRun({ ...account.spec, ...overrides }, account.sink, { connectors, logger, browser });
  }

  let enrolled: Account;
  let enrolledAt: number;
  const seedsSeen: string[] = [];

  it('turns MFA on through the runner, re-authenticating first, and stores the seed and the recovery codes', async () => {
    enrolled = await newAccount();
    enrolledAt = Date.now();

    const summary = await run(enrolled);

    expect(summary).toMatchObject({
      outcome: 'Enabled',
      connector: { id: 'allauth' },
      seed: { algorithm: 'SHA1', digits: 6, period: 30 },
      recoveryCodeCount: 10,
    });
    expect(await site.authenticators(enrolled.username)).toEqual([
      { type: 'recovery_codes', unusedCodes: 10 },
      { type: 'totp' },
    ]);
    const stored = await enrolled.sink.readSeed();
    expect(stored?.state).toBe('confirmed');
    expect(stored?.seed.issuer).toBe('allauth-test');
    seedsSeen.push(stored!.seed.secret.reveal());
    const codes = (await enrolled.sink.readRecoveryCodes())?.reveal() ?? [];
    expect(codes).toHaveLength(10);
    expect(enrolled.logLines.join('')).toContain('the site asked to confirm the password');
    expectNoSecrets([JSON.stringify(summary), ...enrolled.logLines], {
      strings: [enrolled.password, stored!.seed.secret.reveal(), ...codes],
      codes: codesSince(stored!.seed, enrolledAt),
    });
  }, 300_000);

  it('lets a person sign in with a code generated from the stored seed', async () => {
    const { seed } = (await enrolled.sink.readSeed())!;

    const signedIn = await signInByHand(browser, site, enrolled, await freshCode(seed));

    expect(signedIn).toBe(enrolled.username);
  }, 120_000);

  it('lets a person sign in once with a stored recovery code, which allauth then counts as used', async () => {
    const [first] = (await enrolled.sink.readRecoveryCodes())!.reveal();

    const once = await signInByHand(browser, site, enrolled, first!);
    const twice = await signInByHand(browser, site, enrolled, first!);

    expect(once).toBe(enrolled.username);
    expect(twice).toBeUndefined();
    expect(await site.authenticators(enrolled.username)).toContainEqual({ type: 'recovery_codes', unusedCodes: 9 });
  }, 120_000);

  it('reports MfaAlreadyEnabled when the account has an authenticator and no seed is stored', async () => {
    const summary = await run({ ...enrolled, sink: new FileResultSink(join(dir, 'empty-sink')) });

    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'MfaAlreadyEnabled', retryable: false });
  }, 120_000);

  it('rotates: signs in with the stored seed, deactivates, enrolls a new seed that signs in while the old one does not', async () => {
    const before = (await enrolled.sink.readSeed())!.seed;
    await storeActive(before);
    // As the operator starts a rotation: an empty result for the new seed, and the code service for the old one.
    const rotation = new FileResultSink(join(dir, 'rotation'));
    enrolled = {
      ...enrolled,
      spec: { ...enrolled.spec, sink: { type: 'file', dir: join(dir, 'rotation') } },
      sink: rotation,
    };

    const summary = await run(enrolled, { action: 'rotate', codeService: await codeService.run(ref) });

    expect(summary).toMatchObject({ outcome: 'Enabled', recoveryCodeCount: 10 });
    const after = (await enrolled.sink.readSeed())!.seed;
    seedsSeen.push(after.secret.reveal());
    expect(after.secret.reveal()).not.toBe(before.secret.reveal());
    expect(await site.authenticators(enrolled.username)).toEqual([
      { type: 'recovery_codes', unusedCodes: 10 },
      { type: 'totp' },
    ]);
    expect(await signInByHand(browser, site, enrolled, await freshCode(before))).toBeUndefined();
    expect(await signInByHand(browser, site, enrolled, await freshCode(after))).toBe(enrolled.username);
  }, 300_000);

  it('verifies, then turns MFA off with the stored seed, recovery codes included', async () => {
    await storeActive((await enrolled.sink.readSeed())!.seed);

    const verified = await run(enrolled, { action: 'verify', codeService: await codeService.run(ref) });
    const disabled = await run(enrolled, { action: 'disable', codeService: await codeService.run(ref) });

    expect(verified).toMatchObject({ outcome: 'Verified' });
    expect(disabled).toMatchObject({ outcome: 'Disabled' });
    expect(await site.authenticators(enrolled.username)).toEqual([]);
    expect((await enrolled.sink.readSeed())?.state).toBe('disabled');
    expectNoSecrets(enrolled.logLines, { strings: [enrolled.password, ...seedsSeen] });
  }, 300_000);

  it('fails a wrong password with InvalidCredentials and leaves MFA off', async () => {
    const account = await newAccount();
    await writeFile(account.spec.credentials.passwordFile, 'not-the-password\n');

    const summary = await run(account);

    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'InvalidCredentials', retryable: false });
    expect(await site.authenticators(account.username)).toEqual([]);
  }, 120_000);

  it('reports allauth locking the account after failed sign-ins as RateLimited, to be retried', async () => {
    const account = await newAccount();
    await writeFile(account.spec.credentials.passwordFile, 'not-the-password\n');
    // The site allows 5 failed sign-ins per account in 5 minutes (test/apps/allauth settings).
    for (let attempt = 0; attempt < 5; attempt++) await run(account);
    await writeFile(account.spec.credentials.passwordFile, `${account.password}\n`);

    const summary = await run(account);

    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'RateLimited', retryable: true });
    expect(await site.authenticators(account.username)).toEqual([]);
  }, 300_000);

  it('serves a restyled site that mounts allauth elsewhere: the prefix comes from the loginUrl', async () => {
    const other = await startAllauth({ urlPrefix: 'id/', theme: 'restyled' });
    try {
      const account = await newAccount(other);
      expect(account.spec.loginUrl).toBe(`${other.url}/id/login/`);
      expect(await (await fetch(other.loginUrl)).text()).toContain('Example Shop');

      const summary = await run(account);

      expect(summary).toMatchObject({ outcome: 'Enabled', recoveryCodeCount: 10 });
      expect(await other.authenticators(account.username)).toEqual([
        { type: 'recovery_codes', unusedCodes: 10 },
        { type: 'totp' },
      ]);
      const ref = { namespace: 'default', name: 'restyled', uid: randomUUID() };
      const { seed } = (await account.sink.readSeed())!;
      await store.promotePendingSeed(ref, (await store.writePendingSeed(ref, seed)).version);
      expect(await run(account, { action: 'disable', codeService: await codeService.run(ref) })).toMatchObject({
        outcome: 'Disabled',
      });
      expect(await other.authenticators(account.username)).toEqual([]);
    } finally {
      await other.stop();
    }
  }, 300_000);

  it('refuses a login URL on a host the cluster admin did not list', async () => {
    const account = await newAccount();

    const summary = await run(account, { loginUrl: account.spec.loginUrl!.replace('127.0.0.1', 'localhost') });

    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'LoginHostNotAllowed' });
  });

  it('stops the site without leaving a process behind', async () => {
    const pid = site.pid;

    await site.stop();

    expect(() => process.kill(-pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  }, 60_000);
});

/** A code for a window no run has used yet: allauth refuses a code it has already accepted. */
function freshCode(seed: TotpSeed): Promise<string> {
  return new TotpCodeSource(seed).totpCode().then((code) => code.reveal());
}

/**
 * What a person does: the login form, then the code page. Returns the signed-in username from the
 * site's home page, or undefined when the code was refused.
 */
async function signInByHand(
  browser: Browser,
  site: AllauthServer,
  account: Account,
  code: string,
): Promise<string | undefined> {
  const context = await browser.newContext();
  try {
    const page: Page = await context.newPage();
    page.setDefaultTimeout(PAGE_TIMEOUT_MS);
    await page.goto(site.loginUrl);
    await page.locator('input[name="login"]').fill(account.username);
    await page.locator('input[name="password"]').fill(account.password);
    await Promise.all([
      page.waitForURL(/\/2fa\/authenticate\//),
      page.locator('input[name="password"]').press('Enter'),
    ]);
    await page.locator('input[name="code"]').fill(code);
    await Promise.all([page.waitForEvent('framenavigated'), page.locator('input[name="code"]').press('Enter')]);
    return await signedInAs(page);
  } finally {
    await context.close();
  }
}

async function signedInAs(page: Page): Promise<string | undefined> {
  await page.waitForLoadState('load');
  const home = page.locator('[data-signed-in]');
  return (await home.count()) > 0 ? ((await home.getAttribute('data-signed-in')) ?? undefined) : undefined;
}
