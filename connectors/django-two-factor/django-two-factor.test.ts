import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import { TotpCodeSource } from '../../core/totp/totp-codes.ts';
import { FileResultSink } from '../../operator/runner/file-sink.ts';
import { ConnectorRunKit, expectStopped, type RunAccount } from '../sdk/testing/run-kit.ts';
import { codesSince, expectNoSecrets } from '../sdk/testing/secrets.ts';
import { InMemoryStore } from '../../test/automation/in-memory-store.ts';
import { RunCodeService } from '../../test/runner/run-code-service.ts';
import { ensureDjangoTwoFactor } from '../../test/apps/django-two-factor/install.ts';
import { startDjangoTwoFactor, type DjangoTwoFactorServer } from '../../test/apps/django-two-factor/server.ts';
import { signInByHand as signInAt, type SecondStep } from '../../test/apps/django-two-factor/sign-in-by-hand.ts';
import { allowedLoginHostsEnv } from '../sdk/deployment-hosts.ts';

/**
 * The django-two-factor connector end to end: the test site of test/apps/django-two-factor
 * (django-two-factor-auth on Django, from PyPI, started once for the file; its wizard offers the token
 * generator and email, so it asks for the method), real Chromium, the runner with its file-backed sink.
 * Tests run in order; the later ones use the account the first one enrolled.
 */

const PAGE_TIMEOUT_MS = 30_000;
const NO_DEVICES = { totp: 0, backupTokens: 0, other: [] };

// A machine that cannot install the pinned packages (no Python 3.10+, no registry) says so instead of failing on a connection.
const absent = await ensureDjangoTwoFactor().then(
  () => undefined,
  (e: unknown) =>
    `the pinned django-two-factor-auth could not be installed (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); ` +
    'run hack/fetch-python-app.sh django-two-factor to see why',
);

describe.skipIf(absent !== undefined)(
  `django-two-factor connector against a real django-two-factor-auth site in Chromium${absent ? ` (skipped: ${absent})` : ''}`,
  () => {
    let site: DjangoTwoFactorServer;
    let kit: ConnectorRunKit;
    let browser: Browser;
    let users = 0;
    // Runs sign in with the stored seed through the operator's run endpoint, as Jobs do: they never hold it.
    let codeService: RunCodeService;
    const store = new InMemoryStore();
    const ref = { namespace: 'default', name: 'd2fa', uid: randomUUID() };

    beforeAll(async () => {
      process.env[allowedLoginHostsEnv('django-two-factor')] = '127.0.0.1';
      // Settled, so that afterAll stops whichever started when the other failed (no Chromium, say).
      const [started, opened] = await Promise.allSettled([
        startDjangoTwoFactor(),
        ConnectorRunKit.start('django-two-factor'),
      ]);
      if (started.status === 'fulfilled') site = started.value;
      if (opened.status === 'fulfilled') kit = opened.value;
      if (started.status === 'rejected') throw started.reason;
      if (opened.status === 'rejected') throw opened.reason;
      browser = kit.browser;
      codeService = await RunCodeService.start(kit.dir, store);
    }, 900_000);

    afterAll(async () => {
      await codeService?.stop();
      await kit?.close();
      await site?.stop();
    });

    async function newAccount(on: DjangoTwoFactorServer = site): Promise<RunAccount> {
      const n = ++users;
      const username = `user${n}`;
      const password = `pw-${n}-${Math.random().toString(36).slice(2)}`;
      await on.createUser(username, password);
      return kit.account(username, password, on.loginUrl, {
        timeouts: { navigationMs: PAGE_TIMEOUT_MS, actionMs: 10_000 },
      });
    }

    /** What the harvest does with a seed the run confirmed: it becomes the store's active seed. */
    async function storeActive(seed: TotpSeed, at = ref): Promise<void> {
      await store.promotePendingSeed(at, (await store.writePendingSeed(at, seed)).version);
    }

    const signInByHand = (account: RunAccount, second: SecondStep) =>
      signInAt(browser, site.loginUrl, account.username, account.password, second);

    let enrolled: RunAccount;
    let enrolledAt: number;
    const secretsSeen: string[] = [];

    it('turns MFA on through the setup wizard (method choice, QR and key) and stores the seed and ten backup tokens', async () => {
      enrolled = await newAccount();
      enrolledAt = Date.now();

      const summary = await enrolled.run();

      expect(summary).toMatchObject({
        outcome: 'Enabled',
        connector: { id: 'django-two-factor' },
        seed: { algorithm: 'SHA1', digits: 6, period: 30 },
        recoveryCodeCount: 10,
      });
      expect(await site.devices(enrolled.username)).toEqual({ totp: 1, backupTokens: 10, other: [] });
      const stored = await enrolled.sink.readSeed();
      expect(stored?.state).toBe('confirmed');
      // Without django.contrib.sites the package names the request's host as the issuer.
      expect(stored?.seed.issuer).toBe(new URL(site.url).host);
      const codes = (await enrolled.sink.readRecoveryCodes())?.reveal() ?? [];
      expect(codes).toEqual(Array.from({ length: 10 }, () => expect.stringMatching(/^[a-z2-7]{8}$/)));
      expect(enrolled.logLines.join('')).toContain('generating them');
      secretsSeen.push(stored!.seed.secret.reveal(), ...codes);
      expectNoSecrets([JSON.stringify(summary), ...enrolled.logLines], {
        strings: [enrolled.password, ...secretsSeen],
        codes: codesSince(stored!.seed, enrolledAt),
      });
    }, 300_000);

    it('lets a person sign in with a code generated from the stored seed', async () => {
      const { seed } = (await enrolled.sink.readSeed())!;

      expect(await signInByHand(enrolled, { code: await freshCode(seed) })).toBe(enrolled.username);
    }, 120_000);

    it('lets a person sign in once with a stored backup token, which the site then spends', async () => {
      const [token] = (await enrolled.sink.readRecoveryCodes())!.reveal();

      const once = await signInByHand(enrolled, { backupToken: token! });
      const twice = await signInByHand(enrolled, { backupToken: token! });

      expect(once).toBe(enrolled.username);
      expect(twice).toBeUndefined();
      expect(await site.devices(enrolled.username)).toEqual({ totp: 1, backupTokens: 9, other: [] });
    }, 120_000);

    it('reports MfaAlreadyEnabled when the account has a device and no seed is stored', async () => {
      const summary = await enrolled.run({}, new FileResultSink(join(kit.dir, 'empty-sink')));

      expect(summary).toMatchObject({ outcome: 'Failed', reason: 'MfaAlreadyEnabled', retryable: false });
    }, 120_000);

    it('rotates: signs in with the stored seed, disables, enrolls a new seed that signs in while the old one does not', async () => {
      const before = (await enrolled.sink.readSeed())!.seed;
      await storeActive(before);
      // As the operator starts a rotation: an empty result for the new seed, and the code service for the old one.
      const rotation = await kit.account(enrolled.username, enrolled.password, site.loginUrl, {
        timeouts: enrolled.spec.timeouts!,
      });

      const summary = await rotation.run({ action: 'rotate', codeService: await codeService.run(ref) });

      expect(summary).toMatchObject({ outcome: 'Enabled', recoveryCodeCount: 10 });
      const after = (await rotation.sink.readSeed())!.seed;
      const newCodes = (await rotation.sink.readRecoveryCodes())!.reveal();
      secretsSeen.push(after.secret.reveal(), ...newCodes);
      expect(after.secret.reveal()).not.toBe(before.secret.reveal());
      expect(await site.devices(enrolled.username)).toEqual({ totp: 1, backupTokens: 10, other: [] });
      expect(await signInByHand(enrolled, { code: await freshCode(before) })).toBeUndefined();
      expect(await signInByHand(enrolled, { code: await freshCode(after) })).toBe(enrolled.username);
      expectNoSecrets(rotation.logLines, { strings: [enrolled.password, ...secretsSeen] });
      enrolled = rotation;
    }, 300_000);

    it('verifies, then turns MFA off with the stored seed, the backup tokens with it', async () => {
      await storeActive((await enrolled.sink.readSeed())!.seed);

      const verified = await enrolled.run({ action: 'verify', codeService: await codeService.run(ref) });
      const disabled = await enrolled.run({ action: 'disable', codeService: await codeService.run(ref) });

      expect(verified).toMatchObject({ outcome: 'Verified' });
      expect(disabled).toMatchObject({ outcome: 'Disabled' });
      expect(await site.devices(enrolled.username)).toEqual(NO_DEVICES);
      expect((await enrolled.sink.readSeed())?.state).toBe('disabled');
      expect(await signInByHand(enrolled, {})).toBe(enrolled.username);
      expectNoSecrets(enrolled.logLines, { strings: [enrolled.password, ...secretsSeen] });
    }, 300_000);

    it('fails a wrong password with InvalidCredentials and leaves MFA off', async () => {
      const account = await newAccount();
      await account.breakPassword();

      const summary = await account.run();

      await expectStopped(summary, account, 'InvalidCredentials');
      expect(await site.devices(account.username)).toEqual(NO_DEVICES);
    }, 120_000);

    it('reports a stored seed whose codes the site refuses as InvalidCredentials when no recovery code is stored, and changes nothing', async () => {
      const account = await newAccount();
      expect(await account.run()).toMatchObject({ outcome: 'Enabled' });
      const wrong = { ...ref, name: 'd2fa-wrong', uid: randomUUID() };
      await storeActive(
        { secret: new SecretValue('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'), algorithm: 'SHA1', digits: 6, period: 30 },
        wrong,
      );

      const summary = await account.run({
        action: 'disable',
        codeService: await codeService.run(wrong, undefined, 'disable'),
      });

      expect(summary).toMatchObject({
        outcome: 'Failed',
        reason: 'InvalidCredentials',
        message: expect.stringContaining('stored seed'),
      });
      expect(await site.devices(account.username)).toEqual({ totp: 1, backupTokens: 10, other: [] });
    }, 300_000);

    it('enrolls on a site that offers the token generator alone (no method step), under a URL prefix', async () => {
      const plain = await startDjangoTwoFactor({ methods: ['generator'], urlPrefix: 'security/' });
      try {
        const account = await newAccount(plain);

        const summary = await account.run();

        expect(summary).toMatchObject({ outcome: 'Enabled', recoveryCodeCount: 10 });
        expect(await plain.devices(account.username)).toEqual({ totp: 1, backupTokens: 10, other: [] });
      } finally {
        await plain.stop();
      }
    }, 300_000);

    it('keeps the seed when the runner is killed right after the site accepted the code: a re-run adopts it', async () => {
      const account = await newAccount();
      const crashed = { ...ref, name: 'd2fa-crashed', uid: randomUUID() };

      const killed = await account.runProcess({ killAfter: 'confirmEnrollment' });
      // What the harvest does with an unconfirmed seed: pending in the store, for the next run to try.
      const pending = await account.sink.readSeed();
      await store.writePendingSeed(crashed, pending!.seed);
      const rerun = await account.run(
        { codeService: await codeService.run(crashed) },
        new FileResultSink(join(kit.dir, 'crashed-rerun')),
      );

      expect(killed.signal).toBe('SIGKILL');
      expect(pending?.state).toBe('pending');
      expect(rerun).toMatchObject({ outcome: 'Adopted' });
      expect((await site.devices(account.username)).totp).toBe(1);
      expect(await signInByHand(account, { code: await freshCode(pending!.seed) })).toBe(account.username);
      expectNoSecrets([killed.stdout, killed.stderr, killed.terminationMessage, ...account.logLines], {
        strings: [account.password, pending!.seed.secret.reveal()],
      });
    }, 300_000);

    it('refuses a login URL on a host the cluster admin did not list', async () => {
      const account = await newAccount();

      const summary = await account.run({ loginUrl: account.spec.loginUrl!.replace('127.0.0.1', 'localhost') });

      expect(summary).toMatchObject({ outcome: 'Failed', reason: 'LoginHostNotAllowed' });
    });

    it('stops the site without leaving a process behind', async () => {
      const pid = site.pid;

      await site.stop();

      expect(() => process.kill(-pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    }, 60_000);
  },
);

/** A code for a window no run has used yet: django-otp refuses a code it has already accepted. */
function freshCode(seed: TotpSeed): Promise<string> {
  return new TotpCodeSource(seed).totpCode().then((code) => code.reveal());
}
