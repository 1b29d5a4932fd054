import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import type { RunOutcome } from '../run-contract/outcome.ts';
import type { ObservedRun } from './run-observation.ts';
import { driftHoldsEnable, onDriftPlan, remediates, verifyResult, type DriftReason } from './verify-outcome.ts';

const NOW = new Date('2026-12-02T10:00:00Z');
const RUN = {
  job: {} as V1Job,
  name: 'acct-verify-1',
  action: 'verify',
  generation: 1,
  attempt: 1,
  request: 'x',
  finished: true,
} satisfies ObservedRun;

function account(
  onDrift?: 'Alert' | 'Remediate',
  verification: NonNullable<ManagedAccountMfa['status']>['verification'] = {},
): ManagedAccountMfa {
  return {
    metadata: { name: 'acct', namespace: 'team-a' },
    spec: {
      connector: 'demo',
      account: { credentialsSecretRef: { name: 'acct-login' } },
      mfa: { state: 'Enabled', verify: { every: '24h' }, ...(onDrift ? { onDrift } : {}) },
    },
    status: { mfaState: 'Enabled', totp: { enrolledAt: '2026-12-01T00:00:00Z' }, verification },
  } as ManagedAccountMfa;
}

const failedWith = (reason: string, retryable = false): RunOutcome => ({
  outcome: 'Failed',
  reason,
  message: `the app said ${reason}.`,
  retryable,
});
const verified: RunOutcome = { outcome: 'Verified', reason: 'Verified', message: 'ok', retryable: false };

describe('verifyResult: what a verification run says, for status', () => {
  it('a verified seed: MfaVerified True with the time, MFA on, failures and any earlier drift cleared', () => {
    const result = verifyResult(account('Alert', { drift: 'OtherMfaMethodAdded', failures: 2 }), RUN, verified, NOW);

    expect(result.verification).toEqual({
      lastVerifiedTime: '2026-12-02T10:00:00Z',
      lastCheckTime: '2026-12-02T10:00:00Z',
      failures: 0,
    });
    expect(result.mfaState).toBe('Enabled');
    expect(result.conditions).toEqual([
      {
        type: 'MfaVerified',
        status: 'True',
        reason: 'Verified',
        message: expect.stringContaining('at 2026-12-02T10:00:00Z'),
      },
      expect.objectContaining({ type: 'MfaEnabled', status: 'True' }),
    ]);
  });

  it('MFA found off: MfaVerified and MfaEnabled False (MfaTurnedOff), observed state Disabled, the last proof kept', () => {
    const result = verifyResult(
      account('Alert', { lastVerifiedTime: '2026-12-01T10:00:00Z' }),
      RUN,
      failedWith('MfaTurnedOff'),
      NOW,
    );

    expect(result.verification).toEqual({
      lastVerifiedTime: '2026-12-01T10:00:00Z',
      lastCheckTime: '2026-12-02T10:00:00Z',
      failures: 0,
      drift: 'MfaTurnedOff',
    });
    expect(result.mfaState).toBe('Disabled');
    expect(result.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['MfaVerified', 'False', 'MfaTurnedOff'],
      ['MfaEnabled', 'False', 'MfaTurnedOff'],
    ]);
    expect(result.conditions[0]!.message).toContain('the app said MfaTurnedOff.');
    expect(result.conditions[0]!.message).toContain('changes nothing on the app (spec.mfa.onDrift: Alert)');
  });

  it.each<DriftReason>(['SeedRejected', 'OtherMfaMethodAdded'])(
    '%s: MfaVerified False with that reason; MFA state left as it was',
    (reason) => {
      const result = verifyResult(account('Remediate'), RUN, failedWith(reason), NOW);

      expect(result.mfaState).toBeUndefined();
      expect(result.verification.drift).toBe(reason);
      expect(result.conditions).toEqual([
        expect.objectContaining({
          type: 'MfaVerified',
          status: 'False',
          reason,
          message: expect.stringContaining('The operator changes nothing'),
        }),
      ]);
    },
  );

  it("no answer (rate limited): MfaVerified Unknown with the run's reason, one more failure in a row, the drift found before kept", () => {
    const result = verifyResult(
      account('Alert', { drift: 'SeedRejected', failures: 1, lastVerifiedTime: '2026-12-01T10:00:00Z' }),
      RUN,
      failedWith('RateLimited', true),
      NOW,
    );

    expect(result.verification).toEqual({
      drift: 'SeedRejected',
      failures: 2,
      lastVerifiedTime: '2026-12-01T10:00:00Z',
      lastCheckTime: '2026-12-02T10:00:00Z',
    });
    expect(result.mfaState).toBeUndefined();
    expect(result.conditions).toEqual([
      expect.objectContaining({
        type: 'MfaVerified',
        status: 'Unknown',
        reason: 'RateLimited',
        message: expect.stringContaining('(2 in a row)'),
      }),
    ]);
  });
});

describe('onDrift: what the operator does about drift', () => {
  it.each<[DriftReason, 'Alert' | 'Remediate' | undefined, boolean, RegExp]>([
    ['MfaTurnedOff', 'Remediate', true, /turns MFA on again with a fresh seed/],
    ['MfaTurnedOff', 'Alert', false, /changes nothing on the app .*set onDrift to Remediate/],
    ['MfaTurnedOff', undefined, false, /changes nothing on the app \(spec.mfa.onDrift: Alert\)/],
    ['SeedRejected', 'Remediate', false, /changes nothing: the app takes a seed the operator does not hold/],
    ['SeedRejected', 'Alert', false, /changes nothing/],
    ['OtherMfaMethodAdded', 'Remediate', false, /changes nothing: someone can sign in with that method too/],
    ['OtherMfaMethodAdded', 'Alert', false, /changes nothing/],
  ])('%s with onDrift %s: remediates %s', (drift, onDrift, remediated, plan) => {
    const mfa = account(onDrift, { drift });
    expect(remediates(mfa)).toBe(remediated);
    expect(onDriftPlan(mfa, drift)).toMatch(plan);
  });

  it('holds the enable run MFA found off would start, unless onDrift is Remediate; other drift never starts one', () => {
    expect(driftHoldsEnable(account('Alert', { drift: 'MfaTurnedOff' }))).toBe(true);
    expect(driftHoldsEnable(account('Remediate', { drift: 'MfaTurnedOff' }))).toBe(false);
    expect(driftHoldsEnable(account('Alert', {}))).toBe(false);
  });
});
