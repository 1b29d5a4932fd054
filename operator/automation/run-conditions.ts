import type { ConditionUpdate } from '../controller/status/conditions.ts';
import type { RunOutcome } from '../run-contract/outcome.ts';
import type { ObservedRun } from './run-observation.ts';
import type { JobAction } from '../run-contract/run-spec.ts';

export const ACTION_VERBS = {
  enable: 'turning MFA on',
  disable: 'turning MFA off',
  verify: 'verifying the stored seed and the MFA methods',
  rotate: 'rotating the TOTP seed',
  adopt: 'adopting the existing authenticator of spec.mfa.adoptFrom',
  regenerate: 'regenerating the recovery codes on the app',
} as const satisfies Record<JobAction, string>;

/** Conditions while a run's Job is active. */
export function runningConditions(run: ObservedRun): ConditionUpdate[] {
  const verb = ACTION_VERBS[run.action];
  return [
    {
      type: 'AutomationSucceeded',
      status: 'Unknown',
      reason: 'RunInProgress',
      message: `Job ${run.name} (attempt ${run.attempt}) is ${verb}.`,
    },
  ];
}

/** Conditions while deletion waits for a run, so its seed is harvested before the finalizer goes. */
export function finalizingConditions(run: ObservedRun): ConditionUpdate[] {
  const verb = ACTION_VERBS[run.action];
  return [
    {
      type: 'AutomationSucceeded',
      status: 'Unknown',
      reason: 'RunInProgress',
      message: `Job ${run.name} (attempt ${run.attempt}) is ${verb}; deletion waits for it to finish and be harvested.`,
    },
  ];
}

export function waitingConditions(reason: string, message: string): ConditionUpdate[] {
  return [{ type: 'AutomationSucceeded', status: 'Unknown', reason, message }];
}

/**
 * A regeneration reports on RecoveryCodesRegenerated, as a verification does on MfaVerified, not on AutomationSucceeded:
 * MFA stays on whatever it finds, so its failure (a connector that cannot regenerate) does not make the account unready.
 */
export function regenerationConditions(conditions: readonly ConditionUpdate[]): ConditionUpdate[] {
  return conditions.map((c) => (c.type === 'AutomationSucceeded' ? { ...c, type: 'RecoveryCodesRegenerated' } : c));
}

/** What a harvested regenerate run says: the new set stored, or why not (the old set is still the stored one then). */
export function regeneratedConditions(
  run: ObservedRun,
  outcome: RunOutcome,
  storeName: string,
  stored: StoredAfterRun,
): ConditionUpdate[] {
  if (outcome.outcome === 'Failed')
    return [
      {
        type: 'RecoveryCodesRegenerated',
        status: 'False',
        reason: outcome.reason,
        message: `Job ${run.name}: ${outcome.message}`,
      },
    ];
  return [
    {
      type: 'RecoveryCodesRegenerated',
      status: 'True',
      reason: 'RecoveryCodesRegenerated',
      message: `Job ${run.name}: ${outcome.message}`,
    },
    recoveryCodesStored(stored.codes, storeName),
  ];
}

function recoveryCodesStored(count: number, storeName: string): ConditionUpdate {
  return {
    type: 'RecoveryCodesStored',
    status: 'True',
    reason: 'RecoveryCodesStored',
    message: `${count} recovery codes are stored in ${storeName}.`,
  };
}

export function failedConditions(reason: string, message: string): ConditionUpdate[] {
  return [{ type: 'AutomationSucceeded', status: 'False', reason, message }];
}

/** What the store holds once a run is harvested: whether there is an active seed, and how many recovery codes. */
export interface StoredAfterRun {
  seed: boolean;
  codes: number;
}

/** What a finished run says about the account, for status conditions. */
export function outcomeConditions(
  run: ObservedRun,
  outcome: RunOutcome,
  storeName: string,
  stored: StoredAfterRun,
): ConditionUpdate[] {
  if (outcome.outcome === 'Failed') return failedConditions(outcome.reason, `Job ${run.name}: ${outcome.message}`);
  const automation: ConditionUpdate = {
    type: 'AutomationSucceeded',
    status: 'True',
    reason: outcome.outcome,
    message: `Job ${run.name}: ${outcome.message}`,
  };
  if (outcome.outcome === 'Disabled') {
    return [
      automation,
      {
        type: 'MfaEnabled',
        status: 'False',
        reason: 'MfaDisabled',
        message: 'Authenticator-app MFA is off on the app, as spec.mfa.state asks.',
      },
    ];
  }
  const updates: ConditionUpdate[] = [
    automation,
    {
      type: 'MfaEnabled',
      status: 'True',
      reason: 'MfaEnabled',
      message: 'Authenticator-app MFA is on; the operator is the authenticator.',
    },
    stored.seed
      ? {
          type: 'SeedStored',
          status: 'True',
          reason: 'SeedStored',
          message: `The TOTP seed is stored in ${storeName}.`,
        }
      : seedMissing(run, storeName),
  ];
  if (stored.codes > 0) updates.push(recoveryCodesStored(stored.codes, storeName));
  return updates;
}

/** MFA is on with a seed nobody holds (the run's result Secret lost it before the harvest): never report that as stored. */
function seedMissing(run: ObservedRun, storeName: string): ConditionUpdate {
  return {
    type: 'SeedStored',
    status: 'False',
    reason: 'SeedMissing',
    message:
      `Job ${run.name} reported MFA on, but ${storeName} holds no seed: the run's result Secret lost it before the harvest. ` +
      'Turn the authenticator off in the app (with a recovery code, or ask its admin); the operator then enrols a new seed ' +
      '(after an MfaAlreadyEnabled failure, edit the resource or its credentials Secret to start it).',
  };
}
