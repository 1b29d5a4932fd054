import type { ManagedAccountMfa, VerificationStatus } from '../api/v1alpha1/types.generated.ts';
import { rfc3339, type ConditionUpdate } from '../controller/status/conditions.ts';
import type { RunOutcome } from '../run-contract/outcome.ts';
import type { ObservedRun } from './run-observation.ts';

/** What a verification run can find changed on the app; the runner reports each as its failure reason. */
export const DRIFT_REASONS = ['MfaTurnedOff', 'SeedRejected', 'OtherMfaMethodAdded'] as const;
export type DriftReason = (typeof DRIFT_REASONS)[number];

export function isDrift(reason: string): reason is DriftReason {
  return (DRIFT_REASONS as readonly string[]).includes(reason);
}

/** What one harvested verification run says: conditions, the verification status, and the MFA state when it learnt it. */
export interface VerifyResult {
  conditions: ConditionUpdate[];
  verification: VerificationStatus;
  mfaState?: 'Enabled' | 'Disabled';
}

/**
 * The outcome of a verification run, for status. A verified seed clears any drift; a drift reason is reported with what
 * the operator will do about it (onDriftPlan); any other failure (rate limited, timed out, credentials refused) is not
 * an answer: MfaVerified goes Unknown, the drift already found stays, and the next check backs off.
 */
export function verifyResult(mfa: ManagedAccountMfa, run: ObservedRun, outcome: RunOutcome, now: Date): VerifyResult {
  const previous = mfa.status?.verification ?? {};
  const at = rfc3339(now);
  if (outcome.outcome !== 'Failed') {
    return {
      mfaState: 'Enabled',
      verification: { lastVerifiedTime: at, lastCheckTime: at, failures: 0 },
      conditions: [
        {
          type: 'MfaVerified',
          status: 'True',
          reason: 'Verified',
          message: `Job ${run.name} signed in with the stored seed at ${at}; MFA is on with no other method.`,
        },
        {
          type: 'MfaEnabled',
          status: 'True',
          reason: 'MfaEnabled',
          message: 'Authenticator-app MFA is on; the operator is the authenticator.',
        },
      ],
    };
  }
  if (isDrift(outcome.reason)) {
    const { lastVerifiedTime } = previous;
    const verification = {
      ...(lastVerifiedTime ? { lastVerifiedTime } : {}),
      lastCheckTime: at,
      failures: 0,
      drift: outcome.reason,
    };
    const message = `Job ${run.name} at ${at}: ${outcome.message} ${onDriftPlan(mfa, outcome.reason)}`;
    const conditions: ConditionUpdate[] = [{ type: 'MfaVerified', status: 'False', reason: outcome.reason, message }];
    if (outcome.reason !== 'MfaTurnedOff') return { verification, conditions };
    conditions.push({ type: 'MfaEnabled', status: 'False', reason: 'MfaTurnedOff', message });
    return { verification, conditions, mfaState: 'Disabled' };
  }
  const failures = (previous.failures ?? 0) + 1;
  return {
    verification: { ...previous, lastCheckTime: at, failures },
    conditions: [
      {
        type: 'MfaVerified',
        status: 'Unknown',
        reason: outcome.reason,
        message: `Job ${run.name} could not verify the account (${failures} in a row): ${outcome.message} The next check backs off.`,
      },
    ],
  };
}

/**
 * What the operator does about drift, as the condition's message tells it. Only MFA found off is ever remediated,
 * and only with onDrift: Remediate: no seed opens the account then, so enrolling a fresh one (stored before it is
 * confirmed, as every enrolment) locks nobody out. A seed the app no longer takes means another seed is on the app that
 * the operator does not hold; another method means someone else can sign in: acting on either could lock the account
 * out or hide the intruder, so they are only reported.
 *
 * | drift               | onDrift   | the operator                                        |
 * |---------------------|-----------|-----------------------------------------------------|
 * | MfaTurnedOff        | Remediate | turns MFA on again with a fresh seed                |
 * | MfaTurnedOff        | Alert     | changes nothing; says how to remediate              |
 * | SeedRejected        | any       | changes nothing; says how to recover                |
 * | OtherMfaMethodAdded | any       | changes nothing; the next check clears it once gone |
 */
export function onDriftPlan(mfa: ManagedAccountMfa, drift: DriftReason): string {
  if (drift === 'MfaTurnedOff') {
    return remediates(mfa, drift)
      ? 'The operator turns MFA on again with a fresh seed (spec.mfa.onDrift: Remediate); the stored seed stays until the new one is stored.'
      : 'The operator changes nothing on the app (spec.mfa.onDrift: Alert): find out who turned it off, then set onDrift to Remediate to have the operator turn it on with a fresh seed.';
  }
  if (drift === 'SeedRejected') {
    return (
      'The operator changes nothing: the app takes a seed the operator does not hold, so someone enrolled another authenticator. ' +
      "Find out who; turn the authenticator off in the app (a recovery code or the app's admin), and the next check finds MFA off (with onDrift: Remediate the operator then enrols a new seed)."
    );
  }
  return 'The operator changes nothing: someone can sign in with that method too. Remove it in the app if nobody should have it; the next check clears this.';
}

/** Whether a drift leads to a run on the app: MFA found off, with spec.mfa.onDrift Remediate. */
export function remediates(
  mfa: ManagedAccountMfa,
  drift: DriftReason | undefined = mfa.status?.verification?.drift,
): boolean {
  return drift === 'MfaTurnedOff' && mfa.spec.mfa?.onDrift === 'Remediate';
}

/** The enable run that MFA found off would start waits for a person, unless onDrift says to remediate. */
export function driftHoldsEnable(mfa: ManagedAccountMfa): boolean {
  return mfa.status?.verification?.drift === 'MfaTurnedOff' && !remediates(mfa);
}
