import type { Condition } from '../../api/v1alpha1/types.generated.ts';
import type { ConditionUpdate } from '../status/conditions.ts';

/** Condition types of a ManagedAccountMfa; Ready summarises the rest in this order. */
export const CONDITION_TYPES = [
  'CredentialsValid',
  'SecretStoreReady',
  'AutomationSucceeded',
  'MfaEnabled',
  'SeedStored',
  'RecoveryCodesStored',
  'MfaVerified',
] as const;

/**
 * Ready is True when every other condition present is True; otherwise it carries the reason and message of
 * the first condition that is False, else of the first that is Unknown. MfaVerified counts only when False (drift):
 * a check that got no answer says nothing about the account, which stays as the last answer found it.
 */
export function readyFrom(
  conditions: readonly Condition[],
  desired: 'Enabled' | 'Disabled' = 'Enabled',
): ConditionUpdate {
  // With MFA meant to be off, the seed and codes conditions describe what was, not what must be.
  const types =
    desired === 'Enabled'
      ? CONDITION_TYPES
      : CONDITION_TYPES.filter(
          (t) => t !== 'MfaEnabled' && t !== 'SeedStored' && t !== 'RecoveryCodesStored' && t !== 'MfaVerified',
        );
  const ordered = types
    .map((type) => conditions.find((c) => c.type === type))
    .filter((c): c is Condition => c !== undefined && (c.type !== 'MfaVerified' || c.status === 'False'));
  const blocking = ordered.find((c) => c.status === 'False') ?? ordered.find((c) => c.status === 'Unknown');
  if (!blocking) {
    const message = desired === 'Enabled' ? 'MFA is on and its seed is stored.' : 'MFA is off, as spec.mfa.state asks.';
    return { type: 'Ready', status: 'True', reason: 'Ready', message };
  }
  return { type: 'Ready', status: blocking.status, reason: blocking.reason, message: blocking.message };
}
