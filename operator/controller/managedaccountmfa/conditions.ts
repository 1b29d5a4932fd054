import type { Condition } from '../../api/v1alpha1/types.generated.ts';
import type { ConditionUpdate } from '../status/conditions.ts';

/** Condition types of a ManagedAccountMfa; Ready summarises the rest in this order. */
export const CONDITION_TYPES = ['CredentialsValid', 'SecretStoreReady', 'AutomationSucceeded', 'MfaEnabled', 'SeedStored', 'RecoveryCodesStored'] as const;

/**
 * Ready is True when every other condition present is True; otherwise it carries the reason and message of
 * the first condition that is False, else of the first that is Unknown.
 */
export function readyFrom(conditions: readonly Condition[]): ConditionUpdate {
  const ordered = CONDITION_TYPES.map((type) => conditions.find((c) => c.type === type)).filter((c) => c !== undefined);
  const blocking = ordered.find((c) => c.status === 'False') ?? ordered.find((c) => c.status === 'Unknown');
  if (!blocking) {
    return { type: 'Ready', status: 'True', reason: 'Ready', message: 'MFA is in the desired state and its material is stored.' };
  }
  return { type: 'Ready', status: blocking.status, reason: blocking.reason, message: blocking.message };
}
