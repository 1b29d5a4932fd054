import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import { TotpCodeSource } from '../../core/totp/totp-codes.ts';
import { FileResultSink } from '../../operator/runner/file-sink.ts';
import { ConnectorRunKit, expectStopped, type RunAccount } from '../sdk/testing/run-kit.ts';
import { codesSince, expectNoSecrets } from '../sdk/testing/secrets.ts';
import { InMemoryStore } from '../../test/automation/in-memory-store.ts';
import { RunCodeService } from '../../test/runner/run-code-service.ts';
import { startGitea, type GiteaServer } from '../../test/apps/gitea/server.ts';
import { signInByHand as signInAt, type SecondStep } from '../../test/apps/gitea/sign-in-by-hand.ts';
import { allowedLoginHostsEnv } from '../sdk/deployment-hosts.ts';

/**
 * The gitea connector end to end: a real Gitea (test/apps/gitea, built from the Go module proxy and
 * started once for the file, without its frontend bundle), real Chromium, the runner with its
 * file-backed sink. Tests run in order; the later ones use the account the first one enrolled.
 */

const PAGE_TIMEOUT_MS = 30_000;

describe('gitea connector against a real Gitea in Chromium', () => {
  let gitea: GiteaServer;
  let kit: ConnectorRunKit;
  let browser: Browser;
  let users = 0;
  // Runs sign in with the stored seed through the operator's run endpoint, as Jobs do: they never hold it.
  let codeService: RunCodeService;
  const store = new InMemoryStore();
  const ref = { namespace: 'default', name: 'gitea', uid: randomUUID() };

  beforeAll(async () => {
    process.env[allowedLoginHostsEnv('gitea')] = '127.0.0.1';
    // Settled, so that afterAll stops whichever started when the other failed (no Chromium, say).
    const [started, opened] = await Promise.allSettled([startGitea(), ConnectorRunKit.start('gitea')]);
    if (started.status === 'fulfilled') gitea = started.value;
    if (opened.status === 'fulfilled') kit = opened.value;
    if (started.status === 'rejected') throw started.reason;
    if (opened.status === 'rejected') throw opened.reason;
    browser = kit.browser;
    codeService = await RunCodeService.start(kit.dir, store);
  }, 1_800_000);

  afterAll(async () => {
    await codeService?.stop();
    await kit?.close();
    await gitea?.stop();
  });

  async function newAccount(): Promise<RunAccount> {
    const n = ++users;
    const username = `user${n}`;
    const password = `pw-${n}-${Math.random().toString(36).slice(2)}`;
    await gitea.createUser(username, password);
    return kit.account(username, password, gitea.loginUrl, {
      timeouts: { navigationMs: PAGE_TIMEOUT_MS, actionMs: 10_000 },
    });
  }

  /** What the harvest does with a seed the run confirmed: it becomes the store's active seed. */
  async function storeActive(seed: TotpSeed, at = ref): Promise<void> {
    await store.promotePendingSeed(at, (await store.writePendingSeed(at, seed)).version);
  }

  const signInByHand = (account: RunAccount, second: SecondStep) =>
    signInAt(browser, gitea.url, account.username, account.password, second);

  let enrolled: RunAccount;
  let enrolledAt: number;
  const secretsSeen: string[] = [];

  it('turns MFA on through the runner and stores the seed and the single-use recovery key', async () => {
    enrolled = await newAccount();
    enrolledAt = Date.now();

    const summary = await enrolled.run();

    expect(summary).toMatchObject({
      outcome: 'Enabled',
      connector: { id: 'gitea' },
      seed: { algorithm: 'SHA1', digits: 6, period: 30 },
      recoveryCodeCount: 1,
    });
    expect(await gitea.twoFactor(enrolled.username)).toEqual({ totp: true, securityKeys: 0 });
    const stored = await enrolled.sink.readSeed();
    expect(stored?.state).toBe('confirmed');
    expect(stored?.seed.issuer).toBe('Gitea test (127.0.0.1)');
    const codes = (await enrolled.sink.readRecoveryCodes())?.reveal() ?? [];
    expect(codes).toEqual([expect.stringMatching(/^[A-HJ-NP-Z2-9]{10}$/)]);
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

  it('lets a person sign in once with the stored recovery key, which Gitea then replaces', async () => {
    const [key] = (await enrolled.sink.readRecoveryCodes())!.reveal();

    const once = await signInByHand(enrolled, { recoveryKey: key! });
    const twice = await signInByHand(enrolled, { recoveryKey: key! });

    expect(once).toBe(enrolled.username);
    expect(twice).toBeUndefined();
    expect(await gitea.twoFactor(enrolled.username)).toEqual({ totp: true, securityKeys: 0 });
  }, 120_000);

  it('regenerates the recovery key with the stored seed: the key it replaced is refused, the new one signs in', async () => {
    await storeActive((await enrolled.sink.readSeed())!.seed);
    const regenerate = async () => {
      const run = await kit.account(enrolled.username, enrolled.password, gitea.loginUrl, {
        timeouts: enrolled.spec.timeouts!,
      });
      const summary = await run.run({ action: 'regenerate', codeService: await codeService.run(ref) });
      expect(summary).toMatchObject({ outcome: 'RecoveryCodesRegenerated', recoveryCodeCount: 1 });
      const [key] = (await run.sink.readRecoveryCodes())!.reveal();
      secretsSeen.push(key!);
      expectNoSecrets([JSON.stringify(summary), ...run.logLines], { strings: [enrolled.password, ...secretsSeen] });
      return key!;
    };

    const first = await regenerate();
    const second = await regenerate();

    expect(second).not.toBe(first);
    expect(await signInByHand(enrolled, { recoveryKey: first })).toBeUndefined();
    expect(await signInByHand(enrolled, { recoveryKey: second })).toBe(enrolled.username);
    expect(await gitea.twoFactor(enrolled.username)).toEqual({ totp: true, securityKeys: 0 });
  }, 300_000);

  it('reports MfaAlreadyEnabled when the account has an authenticator and no seed is stored', async () => {
    const summary = await enrolled.run({}, new FileResultSink(join(kit.dir, 'empty-sink')));

    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'MfaAlreadyEnabled', retryable: false });
  }, 120_000);

  it('rotates: signs in with the stored seed, disables, enrolls a new seed that signs in while the old one does not', async () => {
    const before = (await enrolled.sink.readSeed())!.seed;
    await storeActive(before);
    // As the operator starts a rotation: an empty result for the new seed, and the code service for the old one.
    const rotation = await kit.account(enrolled.username, enrolled.password, gitea.loginUrl, {
      timeouts: enrolled.spec.timeouts!,
    });

    const summary = await rotation.run({ action: 'rotate', codeService: await codeService.run(ref) });

    expect(summary).toMatchObject({ outcome: 'Enabled', recoveryCodeCount: 1 });
    const after = (await rotation.sink.readSeed())!.seed;
    const [newKey] = (await rotation.sink.readRecoveryCodes())!.reveal();
    secretsSeen.push(after.secret.reveal(), newKey!);
    expect(after.secret.reveal()).not.toBe(before.secret.reveal());
    expect(await gitea.twoFactor(enrolled.username)).toEqual({ totp: true, securityKeys: 0 });
    expect(await signInByHand(enrolled, { code: await freshCode(before) })).toBeUndefined();
    expect(await signInByHand(enrolled, { code: await freshCode(after) })).toBe(enrolled.username);
    expectNoSecrets(rotation.logLines, { strings: [enrolled.password, ...secretsSeen] });
    enrolled = rotation;
  }, 300_000);

  it('verifies, then turns MFA off with the stored seed, the recovery key with it', async () => {
    await storeActive((await enrolled.sink.readSeed())!.seed);

    const verified = await enrolled.run({ action: 'verify', codeService: await codeService.run(ref) });
    const disabled = await enrolled.run({ action: 'disable', codeService: await codeService.run(ref) });

    expect(verified).toMatchObject({ outcome: 'Verified' });
    expect(disabled).toMatchObject({ outcome: 'Disabled' });
    expect(await gitea.twoFactor(enrolled.username)).toEqual({ totp: false, securityKeys: 0 });
    expect((await enrolled.sink.readSeed())?.state).toBe('disabled');
    expect(await signInByHand(enrolled, {})).toBe(enrolled.username);
    expectNoSecrets(enrolled.logLines, { strings: [enrolled.password, ...secretsSeen] });
  }, 300_000);

  it('fails a wrong password with InvalidCredentials and leaves MFA off', async () => {
    const account = await newAccount();
    await account.breakPassword();

    const summary = await account.run();

    await expectStopped(summary, account, 'InvalidCredentials');
    expect(await gitea.twoFactor(account.username)).toEqual({ totp: false, securityKeys: 0 });
  }, 120_000);

  it('stops with OtherMfaMethodEnabled for an account that signs in with a security key only', async () => {
    const account = await newAccount();
    await gitea.addSecurityKey(account.username);

    const summary = await account.run();

    await expectStopped(summary, account, 'OtherMfaMethodEnabled');
    expect(await gitea.twoFactor(account.username)).toEqual({ totp: false, securityKeys: 1 });
  }, 120_000);

  it('signs in past the security-key prompt with a code when the account has both, and verification reports the key as drift', async () => {
    const account = await newAccount();
    expect(await account.run()).toMatchObject({ outcome: 'Enabled' });
    await gitea.addSecurityKey(account.username);
    const both = { ...ref, name: 'gitea-both', uid: randomUUID() };
    await storeActive((await account.sink.readSeed())!.seed, both);

    const verified = await account.run({ action: 'verify', codeService: await codeService.run(both) });

    // The code opened the account (login ok); the key is a second way in, which verification reports (spec.mfa.verify).
    expect(verified).toMatchObject({ outcome: 'Failed', reason: 'OtherMfaMethodAdded', retryable: false });
    expect(verified.message).toContain('webauthn');
    expect(verified.steps.map((s) => [s.name, s.result])).toContainEqual(['login', 'ok']);
    expect(account.logLines.join('')).toContain('the account has a security key too');
  }, 300_000);

  it('keeps the seed when the runner is killed right after Gitea accepted the code: a re-run adopts it', async () => {
    const account = await newAccount();
    const crashed = { ...ref, name: 'gitea-crashed', uid: randomUUID() };

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
    expect(await gitea.twoFactor(account.username)).toEqual({ totp: true, securityKeys: 0 });
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

  it('stops Gitea without leaving a process behind', async () => {
    const pid = gitea.pid;

    await gitea.stop();

    expect(() => process.kill(-pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  }, 60_000);
});

/** A code for a window no run has used yet: Gitea refuses a code it has already accepted. */
function freshCode(seed: TotpSeed): Promise<string> {
  return new TotpCodeSource(seed).totpCode().then((code) => code.reveal());
}
