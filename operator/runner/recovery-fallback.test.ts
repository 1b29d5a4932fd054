import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTextKey } from '../../connectors/sdk/otpauth-uri.ts';
import { InMemoryStore } from '../../test/automation/in-memory-store.ts';
import { codesSince, DemoRunFixture, expectNoSecrets, type DemoAccount } from '../../test/runner/demo-run-fixture.ts';
import { RunCodeService } from '../../test/runner/run-code-service.ts';
import type { AccountRef } from '../stores/provider.ts';
import { RunCodeClient } from './run-code-client.ts';
import { SecretScrubber } from './secret-scrubber.ts';

/** A seed the demo app never saw: the store restored from the wrong backup. */
const WRONG_SEED = parseTextKey('KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF');

/**
 * The runner's fallback to one recovery code (issue 16), against the demo app in Chromium and the run endpoint's
 * real handler, run checks and claim rule (test/runner/run-code-service.ts). The demo app takes any unused code.
 */
describe('a run whose stored seed is refused', () => {
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

  /** An account the runner enrolled, and a store holding `seed` (its own, or the wrong one) and its recovery codes. */
  async function enrolled(
    seed: 'own' | 'wrong',
  ): Promise<{ account: DemoAccount; ref: AccountRef; recovery: string[] }> {
    const account = await fixture.account();
    expect((await account.run()).outcome).toBe('Enabled');
    const ref = { namespace: 'default', name: 'acct', uid: randomUUID() };
    const own = (await account.sink.readSeed())!.seed;
    await store.promotePendingSeed(ref, (await store.writePendingSeed(ref, seed === 'own' ? own : WRONG_SEED)).version);
    const recovery = [...(await account.sink.readRecoveryCodes())!.reveal()];
    await store.writeRecoveryCodes(ref, (await account.sink.readRecoveryCodes())!);
    return { account, ref, recovery };
  }

  const recoveryRequests = (job: string) =>
    codes.auditRecords().filter((r) => r.job === job && r.purpose === 'recovery');

  it('is never given a recovery code while its seed works: a disable with a working seed uses none up', async () => {
    const { account, ref } = await enrolled('own');

    const disabled = await account.run({
      action: 'disable',
      codeService: await codes.run(ref, 'own-disable-1', 'disable'),
    });

    expect(disabled).toMatchObject({ outcome: 'Disabled' });
    expect(disabled.message).not.toContain('recovery code');
    expect(account.mfaEnabled()).toBe(false);
    expect(codes.usedRecoveryCodes(ref)).toEqual([]);
    expect(recoveryRequests('own-disable-1')).toEqual([]);
  }, 180_000);

  it('verify: refused, SeedRejected, and no recovery code asked for or used (a verification changes nothing)', async () => {
    const { account, ref } = await enrolled('wrong');

    const verified = await account.run({
      action: 'verify',
      codeService: await codes.run(ref, 'wrong-verify-1', 'verify'),
    });

    expect(verified).toMatchObject({ outcome: 'Failed', reason: 'SeedRejected' });
    expect(codes.usedRecoveryCodes(ref)).toEqual([]);
    expect(recoveryRequests('wrong-verify-1')).toEqual([]);
    expect(fixture.app.accounts.status(account.email).mfa).toMatchObject({ enabled: true, recoveryCodesRemaining: 10 });
  }, 180_000);

  it('disable: signs in with exactly one recovery code after the refusal, and fails clearly where the app needs a TOTP code', async () => {
    const { account, ref, recovery } = await enrolled('wrong');
    const startedAt = Date.now();

    const summary = await account.run({
      action: 'disable',
      codeService: await codes.run(ref, 'wrong-disable-1', 'disable'),
    });

    // The demo app's turn-off form asks for an authenticator code, which a recovery-code session does not have.
    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'ChallengeRequired', retryable: false });
    expect(summary.message).toContain('an authenticator code to turn the authenticator app off');
    expect(codes.usedRecoveryCodes(ref)).toEqual([0]);
    expect(recoveryRequests('wrong-disable-1').map((r) => [r.result, r.index])).toEqual([['issued', 0]]);
    // The app took the code: the sign-in was real.
    expect(fixture.app.accounts.status(account.email).mfa.recoveryCodesRemaining).toBe(9);
    expectNoSecrets([JSON.stringify(summary), ...account.logLines, ...codes.lines], {
      strings: [account.password, ...recovery],
      codes: codesSince((await account.sink.readSeed())!.seed, startedAt),
    });
  }, 180_000);

  it('after a crash between claim and use, the next run gets the next code: the lost one is never handed out again', async () => {
    const { account, ref } = await enrolled('wrong');
    // A first run got a code and died before typing it.
    const crashed = new RunCodeClient(await codes.run(ref, 'crash-rotate-1', 'rotate'), new SecretScrubber());
    expect((await crashed.recoveryCode(undefined)).index).toBe(0);

    const summary = await account.run({
      action: 'rotate',
      codeService: await codes.run(ref, 'crash-rotate-2', 'rotate'),
    });

    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'ChallengeRequired' });
    expect(codes.usedRecoveryCodes(ref)).toEqual([0, 1]);
    expect(recoveryRequests('crash-rotate-2').map((r) => r.index)).toEqual([1]);
  }, 180_000);

  it('with no recovery codes stored, reports the refused seed as before: there was nothing to fall back on', async () => {
    const account = await fixture.account();
    expect((await account.run()).outcome).toBe('Enabled');
    const ref = { namespace: 'default', name: 'acct', uid: randomUUID() };
    await store.promotePendingSeed(ref, (await store.writePendingSeed(ref, WRONG_SEED)).version);

    const summary = await account.run({
      action: 'disable',
      codeService: await codes.run(ref, 'bare-disable-1', 'disable'),
    });

    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'InvalidCredentials' });
    expect(summary.message).toContain('the stored seed does not open the account');
    expect(recoveryRequests('bare-disable-1').map((r) => r.result)).toEqual(['not_found']);
    expect(fixture.app.accounts.status(account.email).mfa).toMatchObject({ enabled: true, recoveryCodesRemaining: 10 });
  }, 180_000);

  it('a refusal of the recovery code itself (none left) fails the run for good: a retry would only burn codes', async () => {
    const { account, ref } = await enrolled('wrong');
    const spent = new RunCodeClient(await codes.run(ref, 'spent-disable-1', 'disable'), new SecretScrubber());
    for (let i = 0; i < 2; i++) await spent.recoveryCode(undefined);
    for (let i = 2; i < 10; i += 2) {
      const more = new RunCodeClient(await codes.run(ref, `spent-disable-${i}`, 'disable'), new SecretScrubber());
      await more.recoveryCode(undefined);
      await more.recoveryCode(undefined);
    }

    const summary = await account.run({
      action: 'disable',
      codeService: await codes.run(ref, 'spent-disable-x', 'disable'),
    });

    expect(codes.usedRecoveryCodes(ref)).toHaveLength(10);
    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'RecoveryCodeUnavailable', retryable: false });
    expect(summary.message).toContain('RecoveryCodesUsedUp');
  }, 180_000);
});
