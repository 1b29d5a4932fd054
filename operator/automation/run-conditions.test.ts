import { describe, expect, it } from 'vitest';
import { outcomeConditions, type StoredAfterRun } from './run-conditions.ts';
import type { ObservedRun } from './run-observation.ts';
import type { RunOutcome } from '../run-contract/outcome.ts';

const run = { name: 'acct-enable-1a2b3c4d', action: 'enable', attempt: 1 } as ObservedRun;
const outcome = (o: RunOutcome['outcome'], reason: string = o): RunOutcome => ({
  outcome: o,
  reason,
  message: `${reason} happened.`,
  retryable: false,
});
const summary = (updates: ReturnType<typeof outcomeConditions>) =>
  updates.map((u) => `${u.type}=${u.status} ${u.reason}`);

describe('outcomeConditions: which conditions a finished run sets', () => {
  it.each<[string, RunOutcome, StoredAfterRun, string[]]>([
    [
      'MFA turned on, with recovery codes',
      outcome('Enabled'),
      { seed: true, codes: 10 },
      [
        'AutomationSucceeded=True Enabled',
        'MfaEnabled=True MfaEnabled',
        'SeedStored=True SeedStored',
        'RecoveryCodesStored=True RecoveryCodesStored',
      ],
    ],
    [
      'MFA turned on, the app gives no recovery codes: no condition claims any',
      outcome('Enabled'),
      { seed: true, codes: 0 },
      ['AutomationSucceeded=True Enabled', 'MfaEnabled=True MfaEnabled', 'SeedStored=True SeedStored'],
    ],
    [
      'a stored seed adopted',
      outcome('Adopted'),
      { seed: true, codes: 8 },
      [
        'AutomationSucceeded=True Adopted',
        'MfaEnabled=True MfaEnabled',
        'SeedStored=True SeedStored',
        'RecoveryCodesStored=True RecoveryCodesStored',
      ],
    ],
    [
      'MFA turned off: the seed and codes conditions are left as they were',
      outcome('Disabled'),
      { seed: false, codes: 0 },
      ['AutomationSucceeded=True Disabled', 'MfaEnabled=False MfaDisabled'],
    ],
    [
      "a failure: only the run's own condition, with the runner's reason",
      outcome('Failed', 'InvalidCredentials'),
      { seed: true, codes: 8 },
      ['AutomationSucceeded=False InvalidCredentials'],
    ],
    [
      'MFA turned on, but the store holds no seed: never reported as stored',
      outcome('Enabled'),
      { seed: false, codes: 8 },
      [
        'AutomationSucceeded=True Enabled',
        'MfaEnabled=True MfaEnabled',
        'SeedStored=False SeedMissing',
        'RecoveryCodesStored=True RecoveryCodesStored',
      ],
    ],
  ])('%s', (_case, result, stored, expected) => {
    expect(summary(outcomeConditions(run, result, 'Kubernetes Secrets in namespace team-a', stored))).toEqual(expected);
  });

  it("names the Job in the run's message, and the store and count in the material's", () => {
    const [automation, , seed, codes] = outcomeConditions(run, outcome('Enabled'), 'MfaSecretStore gcp', {
      seed: true,
      codes: 10,
    });
    expect(automation!.message).toBe('Job acct-enable-1a2b3c4d: Enabled happened.');
    expect(seed!.message).toBe('The TOTP seed is stored in MfaSecretStore gcp.');
    expect(codes!.message).toBe('10 recovery codes are stored in MfaSecretStore gcp.');
    expect(outcomeConditions(run, outcome('Failed', 'RateLimited'), 'x', { seed: false, codes: 0 })[0]!.message).toBe(
      'Job acct-enable-1a2b3c4d: RateLimited happened.',
    );
  });
});
