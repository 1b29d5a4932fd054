import { describe, expect, it } from 'vitest';
import type { Condition } from '../../api/v1alpha1/types.generated.ts';
import { readyFrom } from './ready-condition.ts';

const c = (type: string, status: Condition['status'], reason = `${type}${status}`): Condition => ({
  type,
  status,
  reason,
  message: `${type} is ${status}.`,
  lastTransitionTime: '2026-12-02T01:00:00Z',
  observedGeneration: 1,
});
const ALL_TRUE = [
  'CredentialsValid',
  'SecretStoreReady',
  'AutomationSucceeded',
  'MfaEnabled',
  'SeedStored',
  'RecoveryCodesStored',
].map((t) => c(t, 'True'));
const summary = (ready: ReturnType<typeof readyFrom>) => `${ready.status} ${ready.reason}`;

describe('readyFrom: Ready sums up the other conditions', () => {
  it.each<[string, Condition[], 'Enabled' | 'Disabled', string]>([
    ['everything True', ALL_TRUE, 'Enabled', 'True Ready'],
    [
      'recovery codes not (yet) reported: Ready does not wait for a condition that is absent',
      ALL_TRUE.slice(0, 5),
      'Enabled',
      'True Ready',
    ],
    [
      'one False',
      [...ALL_TRUE.slice(0, 4), c('SeedStored', 'False', 'SecretStoreUnavailable')],
      'Enabled',
      'False SecretStoreUnavailable',
    ],
    [
      'a False wins over an Unknown listed before it',
      [
        c('CredentialsValid', 'True'),
        c('AutomationSucceeded', 'Unknown', 'RunInProgress'),
        c('SeedStored', 'False', 'SecretStoreUnavailable'),
      ],
      'Enabled',
      'False SecretStoreUnavailable',
    ],
    [
      'two False: the first in the summary order, not in the list order',
      [c('AutomationSucceeded', 'False', 'RateLimited'), c('CredentialsValid', 'False', 'CredentialsSecretNotFound')],
      'Enabled',
      'False CredentialsSecretNotFound',
    ],
    [
      'only Unknown: the first of them',
      [
        c('CredentialsValid', 'True'),
        c('SecretStoreReady', 'Unknown', 'Checking'),
        c('AutomationSucceeded', 'Unknown', 'RunInProgress'),
      ],
      'Enabled',
      'Unknown Checking',
    ],
    [
      'a stale Ready and unknown types are not summed',
      [c('Ready', 'False', 'Old'), c('SomethingElse', 'False'), ...ALL_TRUE],
      'Enabled',
      'True Ready',
    ],
    [
      'MFA meant to be off: MfaEnabled False is what was asked',
      [
        ...ALL_TRUE.slice(0, 3),
        c('MfaEnabled', 'False', 'MfaDisabled'),
        c('SeedStored', 'False', 'SecretStoreUnavailable'),
      ],
      'Disabled',
      'True Ready',
    ],
    [
      'MFA meant to be off, the disable run failed',
      [...ALL_TRUE.slice(0, 2), c('AutomationSucceeded', 'False', 'InvalidCredentials'), c('MfaEnabled', 'True')],
      'Disabled',
      'False InvalidCredentials',
    ],
  ])('%s', (_case, conditions, desired, expected) => {
    expect(summary(readyFrom(conditions, desired))).toBe(expected);
  });

  it("carries the blocking condition's message, and says what Ready means for each desired state", () => {
    expect(readyFrom([c('CredentialsValid', 'False', 'CredentialsSecretNotFound')]).message).toBe(
      'CredentialsValid is False.',
    );
    expect(readyFrom(ALL_TRUE, 'Enabled').message).toBe('MFA is on and its seed is stored.');
    expect(readyFrom(ALL_TRUE, 'Disabled').message).toBe('MFA is off, as spec.mfa.state asks.');
  });
});
