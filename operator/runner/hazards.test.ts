import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTextKey } from '../../connectors/sdk/otpauth-uri.ts';
import { InMemoryStore } from '../../test/automation/in-memory-store.ts';
import { RunCodeService } from '../../test/runner/run-code-service.ts';
import type { ResultSink } from './result-sink.ts';
import type { OutcomeSummary } from '../run-contract/outcome.ts';
import type { RunSpec } from '../run-contract/run-spec.ts';
import { DemoRunFixture, expectNoSecrets, type DemoAccount } from '../../test/runner/demo-run-fixture.ts';

const EXISTING_SEED = 'KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF';

/** Run, then check that the summary and every log line are free of the password, seed and codes. */
async function runChecked(
  account: DemoAccount,
  overrides: Partial<RunSpec> = {},
  sink?: ResultSink,
): Promise<OutcomeSummary> {
  const summary = await account.run(overrides, sink);
  const stored = await account.sink.readSeed();
  const codes = (await account.sink.readRecoveryCodes())?.reveal() ?? [];
  expectNoSecrets([JSON.stringify(summary), ...account.logLines], {
    strings: [account.password, EXISTING_SEED, ...(stored ? [stored.seed.secret.reveal()] : []), ...codes],
  });
  return summary;
}

describe('demo hazards end in the right outcome', () => {
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

  /** The code service of a run whose store holds `pending` as the pending seed, as a crashed run leaves it. */
  async function pendingInStore(pending: string): Promise<Partial<RunSpec>> {
    const ref = { namespace: 'default', name: 'acct', uid: randomUUID() };
    await store.writePendingSeed(ref, parseTextKey(pending));
    return { codeService: await codes.run(ref) };
  }

  it.each([
    ['stepUp', { stepUp: true }],
    ['qrOnly', { qrOnly: true }],
    ['lowercaseGroupedKey', { lowercaseGroupedKey: true }],
    ['keyWithPadding', { keyWithPadding: true }],
    ['qrFormat svg', { qrFormat: 'svg' as const }],
    ['qrFormat canvas', { qrFormat: 'canvas' as const }],
    ['requireCodesAcknowledged', { requireCodesAcknowledged: true }],
    ['slowPages', { slowPages: 300 }],
  ])(
    '%s: Enabled, MFA on',
    async (_name, hazards) => {
      const account = await fixture.account(hazards);
      const summary = await runChecked(account);
      expect(summary).toMatchObject({ outcome: 'Enabled' });
      expect(account.mfaEnabled()).toBe(true);
      expect((await account.sink.readSeed())?.state).toBe('confirmed');
    },
    90_000,
  );

  it('totp SHA256/8 digits/60 s: Enabled with those parameters reported', async () => {
    const account = await fixture.account({ totp: { algorithm: 'SHA256', digits: 8, period: 60 } });
    const summary = await runChecked(account);
    expect(summary).toMatchObject({ outcome: 'Enabled', seed: { algorithm: 'SHA256', digits: 8, period: 60 } });
    expect(account.mfaEnabled()).toBe(true);
  }, 90_000);

  it('wrong password: InvalidCredentials, permanent', async () => {
    const account = await fixture.account();
    fixture.app.accounts.upsert({ email: account.email, password: 'something else entirely' });
    expect(await runChecked(account)).toMatchObject({
      outcome: 'Failed',
      reason: 'InvalidCredentials',
      retryable: false,
    });
  });

  it('mfaAlreadyOn without a stored seed: MfaAlreadyEnabled', async () => {
    const account = await fixture.account({ mfaAlreadyOn: { seed: EXISTING_SEED } });
    expect(await runChecked(account)).toMatchObject({
      outcome: 'Failed',
      reason: 'MfaAlreadyEnabled',
      retryable: false,
    });
  });

  it('mfaAlreadyOn with the same seed pending in the store: Adopted, reporting the pending slot', async () => {
    const account = await fixture.account({ mfaAlreadyOn: { seed: EXISTING_SEED } });
    expect(await runChecked(account, await pendingInStore(EXISTING_SEED))).toMatchObject({
      outcome: 'Adopted',
      seed: { algorithm: 'SHA1' },
    });
    expect(await account.sink.readAdoptedSlot()).toBe('pending');
    expect(await account.sink.readSeed(), 'the run never holds the stored seed').toBeUndefined();
  }, 90_000);

  it('mfaAlreadyOn with a different seed pending in the store: MfaAlreadyEnabled after two refused codes', async () => {
    const account = await fixture.account({ mfaAlreadyOn: { seed: EXISTING_SEED } });
    const summary = await runChecked(account, await pendingInStore('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'));
    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'MfaAlreadyEnabled' });
    expect(summary.message).toContain('refused a code from the stored seed');
  }, 90_000);

  it('otherMfaMethod: OtherMfaMethodEnabled naming SMS', async () => {
    const account = await fixture.account({ otherMfaMethod: true });
    const summary = await runChecked(account);
    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'OtherMfaMethodEnabled' });
    expect(summary.message).toContain('sms');
  });

  it('captcha: ChallengeRequired', async () => {
    const account = await fixture.account({ captcha: true });
    expect(await runChecked(account)).toMatchObject({
      outcome: 'Failed',
      reason: 'ChallengeRequired',
      retryable: false,
    });
  });

  it('rateLimit: RateLimited with the Retry-After seconds, retryable', async () => {
    const account = await fixture.account({ rateLimit: 120 });
    expect(await runChecked(account)).toMatchObject({
      outcome: 'Failed',
      reason: 'RateLimited',
      retryAfterSeconds: 120,
      retryable: true,
    });
  });

  it('pages slower than the navigation timeout: Timeout, retryable', async () => {
    const account = await fixture.account({ slowPages: 3_000 });
    const summary = await runChecked(account, { timeouts: { navigationMs: 1_000, actionMs: 1_000 } });
    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'Timeout', retryable: true });
  });

  it('login URL outside the allowed hosts: LoginHostNotAllowed before any browsing', async () => {
    const account = await fixture.account();
    const summary = await runChecked(account, { loginUrl: 'https://login.example.com/' });
    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'LoginHostNotAllowed' });
    expect(summary.steps.map((s) => s.name)).toEqual(['resolveLoginUrl']);
  });

  it('unusable sink: SinkUnavailable, and the enrollment is never confirmed', async () => {
    const account = await fixture.account();
    const broken: ResultSink = {
      markAdopted: async () => undefined,
      writePendingSeed: async () => {
        throw new Error('disk full');
      },
      markConfirmed: async () => undefined,
      writeRecoveryCodes: async () => undefined,
      markDisabled: async () => undefined,
    };
    const summary = await runChecked(account, {}, broken);
    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'SinkUnavailable', retryable: true });
    expect(summary.steps.map((s) => s.name)).not.toContain('confirmEnrollment');
    expect(account.mfaEnabled()).toBe(false);
  });
});
