import { describe, expect, it } from 'vitest';
import type { Condition } from '../../api/v1alpha1/types.generated.ts';
import type { ConditionUpdate } from '../status/conditions.ts';
import { plannedEvents } from './condition-events.ts';

const T = '2026-12-02T01:00:00Z';
const was = (type: string, status: Condition['status'], reason: string): Condition => ({
  type,
  status,
  reason,
  message: `${reason}.`,
  lastTransitionTime: T,
  observedGeneration: 1,
});
const now = (type: string, status: Condition['status'], reason: string): ConditionUpdate => ({
  type,
  status,
  reason,
  message: `${reason}.`,
});
const found = [
  now('CredentialsValid', 'True', 'CredentialsSecretFound'),
  now('SecretStoreReady', 'True', 'SecretStoreFound'),
];
const summary = (events: ReturnType<typeof plannedEvents>) => events.map((e) => `${e.type} ${e.reason}`);

describe('plannedEvents: which Events one reconcile emits', () => {
  it.each<[string, Condition[], ConditionUpdate[], ConditionUpdate, string[]]>([
    [
      'first visit, references found, no automation: only Ready says where it stands',
      [],
      [...found, now('AutomationSucceeded', 'Unknown', 'AutomationNotConfigured')],
      now('Ready', 'Unknown', 'AutomationNotConfigured'),
      ['Normal AutomationNotConfigured'],
    ],
    [
      'first visit, credentials Secret missing: one warning, Ready repeats its reason and is not told twice',
      [],
      [now('CredentialsValid', 'False', 'CredentialsSecretNotFound'), found[1]!],
      now('Ready', 'False', 'CredentialsSecretNotFound'),
      ['Warning CredentialsSecretNotFound'],
    ],
    [
      'the same warning re-checked: nothing',
      [
        was('CredentialsValid', 'False', 'CredentialsSecretNotFound'),
        was('SecretStoreReady', 'True', 'SecretStoreFound'),
        was('Ready', 'False', 'CredentialsSecretNotFound'),
      ],
      [now('CredentialsValid', 'False', 'CredentialsSecretNotFound'), found[1]!],
      now('Ready', 'False', 'CredentialsSecretNotFound'),
      [],
    ],
    [
      'a different warning for the same condition',
      [
        was('CredentialsValid', 'False', 'CredentialsSecretNotFound'),
        was('Ready', 'False', 'CredentialsSecretNotFound'),
      ],
      [now('CredentialsValid', 'False', 'CredentialsKeyMissing')],
      now('Ready', 'False', 'CredentialsKeyMissing'),
      ['Warning CredentialsKeyMissing'],
    ],
    [
      'a reference recovering is news, and so is Ready changing',
      [
        was('CredentialsValid', 'False', 'CredentialsKeyMissing'),
        was('SecretStoreReady', 'True', 'SecretStoreFound'),
        was('AutomationSucceeded', 'Unknown', 'AutomationNotConfigured'),
        was('Ready', 'False', 'CredentialsKeyMissing'),
      ],
      [...found, now('AutomationSucceeded', 'Unknown', 'AutomationNotConfigured')],
      now('Ready', 'Unknown', 'AutomationNotConfigured'),
      ['Normal CredentialsSecretFound'],
    ],
    [
      'an idle resync: nothing',
      [
        was('CredentialsValid', 'True', 'CredentialsSecretFound'),
        was('SecretStoreReady', 'True', 'SecretStoreFound'),
        was('AutomationSucceeded', 'Unknown', 'AutomationNotConfigured'),
        was('Ready', 'Unknown', 'AutomationNotConfigured'),
      ],
      [...found, now('AutomationSucceeded', 'Unknown', 'AutomationNotConfigured')],
      now('Ready', 'Unknown', 'AutomationNotConfigured'),
      [],
    ],
    [
      'a harvest that turned MFA on: each outcome and Ready',
      [
        was('CredentialsValid', 'True', 'CredentialsSecretFound'),
        was('SecretStoreReady', 'True', 'SecretStoreFound'),
        was('AutomationSucceeded', 'Unknown', 'RunInProgress'),
        was('Ready', 'Unknown', 'RunInProgress'),
      ],
      [
        ...found,
        now('AutomationSucceeded', 'True', 'Enabled'),
        now('MfaEnabled', 'True', 'MfaEnabled'),
        now('SeedStored', 'True', 'SeedStored'),
        now('RecoveryCodesStored', 'True', 'RecoveryCodesStored'),
      ],
      now('Ready', 'True', 'Ready'),
      ['Normal Enabled', 'Normal MfaEnabled', 'Normal SeedStored', 'Normal RecoveryCodesStored', 'Normal Ready'],
    ],
    [
      'a run that failed: its warning, Ready not told twice',
      [was('AutomationSucceeded', 'Unknown', 'RunInProgress'), was('Ready', 'Unknown', 'RunInProgress')],
      [...found, now('AutomationSucceeded', 'False', 'InvalidCredentials')],
      now('Ready', 'False', 'InvalidCredentials'),
      ['Warning InvalidCredentials'],
    ],
    [
      'a condition going Unknown with nothing else to say: Ready tells it',
      [was('AutomationSucceeded', 'False', 'RateLimited'), was('Ready', 'False', 'RateLimited')],
      [now('AutomationSucceeded', 'Unknown', 'WaitingForCapacity')],
      now('Ready', 'Unknown', 'WaitingForCapacity'),
      ['Normal WaitingForCapacity'],
    ],
  ])('%s', (_case, before, updates, ready, expected) => {
    expect(summary(plannedEvents(before, updates, ready))).toEqual(expected);
  });

  it('lets a run milestone of the step (JobCreated) stand for Ready turning Unknown on the first visit', () => {
    const jobCreated = {
      type: 'Normal' as const,
      reason: 'JobCreated',
      action: 'RunAutomation',
      note: 'Created Job x.',
    };
    const events = plannedEvents(
      [],
      [...found, now('AutomationSucceeded', 'Unknown', 'RunInProgress')],
      now('Ready', 'Unknown', 'RunInProgress'),
      [jobCreated],
    );
    expect(summary(events)).toEqual(['Normal JobCreated']);
  });

  it('carries the condition type as the action and its message as the note', () => {
    const [event] = plannedEvents(
      [],
      [now('CredentialsValid', 'False', 'CredentialsSecretNotFound')],
      now('Ready', 'False', 'CredentialsSecretNotFound'),
    );
    expect(event).toEqual({
      type: 'Warning',
      reason: 'CredentialsSecretNotFound',
      action: 'CredentialsValid',
      note: 'CredentialsSecretNotFound.',
    });
  });
});
