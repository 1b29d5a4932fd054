import type { ConditionUpdate } from '../controller/status/conditions.ts';
import type { RunOutcome } from '../run-contract/outcome.ts';
import type { ObservedRun } from './run-observation.ts';

export const ACTION_VERBS = { enable: 'turning MFA on', disable: 'turning MFA off', rotate: 'rotating the TOTP seed' } as const;

/** Conditions while a run's Job is active. */
export function runningConditions(run: ObservedRun): ConditionUpdate[] {
  const verb = ACTION_VERBS[run.action];
  return [{ type: 'AutomationSucceeded', status: 'Unknown', reason: 'RunInProgress', message: `Job ${run.name} (attempt ${run.attempt}) is ${verb}.` }];
}

/** Conditions while deletion waits for a run, so its seed is harvested before the finalizer goes. */
export function finalizingConditions(run: ObservedRun): ConditionUpdate[] {
  const verb = ACTION_VERBS[run.action];
  return [{ type: 'AutomationSucceeded', status: 'Unknown', reason: 'RunInProgress', message: `Job ${run.name} (attempt ${run.attempt}) is ${verb}; deletion waits for it to finish and be harvested.` }];
}

export function waitingConditions(reason: string, message: string): ConditionUpdate[] {
  return [{ type: 'AutomationSucceeded', status: 'Unknown', reason, message }];
}

export function failedConditions(reason: string, message: string): ConditionUpdate[] {
  return [{ type: 'AutomationSucceeded', status: 'False', reason, message }];
}

/** What a finished run says about the account, for status conditions. */
export function outcomeConditions(run: ObservedRun, outcome: RunOutcome, storeName: string, codes: number): ConditionUpdate[] {
  if (outcome.outcome === 'Failed') return failedConditions(outcome.reason, `Job ${run.name}: ${outcome.message}`);
  const automation: ConditionUpdate = { type: 'AutomationSucceeded', status: 'True', reason: outcome.outcome, message: `Job ${run.name}: ${outcome.message}` };
  if (outcome.outcome === 'Disabled') {
    return [automation, { type: 'MfaEnabled', status: 'False', reason: 'MfaDisabled', message: 'Authenticator-app MFA is off on the app, as spec.mfa.state asks.' }];
  }
  const updates: ConditionUpdate[] = [
    automation,
    { type: 'MfaEnabled', status: 'True', reason: 'MfaEnabled', message: 'Authenticator-app MFA is on; the operator is the authenticator.' },
    { type: 'SeedStored', status: 'True', reason: 'SeedStored', message: `The TOTP seed is stored in ${storeName}.` },
  ];
  if (codes > 0) updates.push({ type: 'RecoveryCodesStored', status: 'True', reason: 'RecoveryCodesStored', message: `${codes} recovery codes are stored in ${storeName}.` });
  return updates;
}
