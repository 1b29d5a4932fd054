import type { ManagedAccountMfa, RecoveryCodesStatus } from '../../api/v1alpha1/types.generated.ts';
import type { ConditionUpdate } from './conditions.ts';

/** spec.mfa.recoveryCodes.lowThreshold when unset (the CRD defaults it too). */
export const DEFAULT_LOW_THRESHOLD = 3;

/** What the store says about the codes it holds: a new version is a new set, with none used. */
export interface StoredCodesFacts {
  readonly count: number;
  readonly version: string;
}

/**
 * The recovery codes' record after the store reported `stored`: positions handed out of the same set are kept
 * (a harvest that rewrote the same codes, or a reconcile, must not forget them), another set starts unused.
 */
export function recoveryCodesRecord(
  previous: RecoveryCodesStatus | undefined,
  stored: StoredCodesFacts,
  rest: Omit<RecoveryCodesStatus, 'count' | 'version' | 'used' | 'remaining'>,
): RecoveryCodesStatus {
  const sameSet = previous?.version === stored.version;
  const used = sameSet ? (previous.used ?? []).filter((i) => i < stored.count) : [];
  const lastHandedOutAt = sameSet ? previous.lastHandedOutAt : undefined;
  // The answered regeneration request outlives the set: a later enrolment must not ask for it again.
  const regeneratedFor = rest.regeneratedFor ?? previous?.regeneratedFor;
  return {
    ...rest,
    ...(regeneratedFor !== undefined ? { regeneratedFor } : {}),
    count: stored.count,
    version: stored.version,
    used,
    remaining: stored.count - used.length,
    ...(lastHandedOutAt ? { lastHandedOutAt } : {}),
  };
}

/**
 * RecoveryCodesLow for an account whose codes are recorded in status; undefined when none are, or when
 * the app gave none (a Keycloak realm without the recovery code form): there is nothing to run low.
 */
export function recoveryCodesLow(
  mfa: ManagedAccountMfa,
  codes: RecoveryCodesStatus | undefined,
): ConditionUpdate | undefined {
  if (!codes?.count) return undefined;
  const threshold = mfa.spec.mfa?.recoveryCodes?.lowThreshold ?? DEFAULT_LOW_THRESHOLD;
  const remaining = codes.remaining ?? codes.count;
  const of = `${remaining} of ${codes.count} stored recovery codes remain`;
  if (remaining < threshold) {
    return {
      type: 'RecoveryCodesLow',
      status: 'True',
      reason: remaining === 0 ? 'RecoveryCodesUsedUp' : 'BelowThreshold',
      message: `${of} (threshold ${threshold}): regenerate them (annotation mfa-operator.io/regenerate-recovery-codes, or spec.mfa.recoveryCodes.regenerate: WhenLow) before the break-glass path runs dry.`,
    };
  }
  return {
    type: 'RecoveryCodesLow',
    status: 'False',
    reason: 'EnoughLeft',
    message: `${of} (threshold ${threshold}).`,
  };
}
