import type { ManagedAccountMfa, RecoveryCodesStatus } from '../api/v1alpha1/types.generated.ts';
import { DEFAULT_LOW_THRESHOLD } from '../controller/status/recovery-codes.ts';
import { REGENERATE_CODES_ANNOTATION, requestRecord } from './run-names.ts';

/** History triggers of a regenerate run: the annotation asked for it, or spec regenerate WhenLow started it. */
export const REGENERATE_REQUESTED_TRIGGER = 'RegenerateRecoveryCodes';
export const REGENERATE_LOW_TRIGGER = 'RecoveryCodesLow';

const REQUESTED = 'requested:';
const LOW = 'low:';

/** Why a regenerate run is wanted, and the request that names its runs (the Job's regenerate-request annotation). */
export interface RegenerateRequest {
  trigger: typeof REGENERATE_REQUESTED_TRIGGER | typeof REGENERATE_LOW_TRIGGER;
  /**
   * `requested:<annotation value>`, or `low:<version of the stored set>`: a retry of the same request counts its attempts
   * (the retry policy), and a set regenerated (a new version) or a new annotation value starts afresh.
   */
  request: string;
}

/**
 * For an enrolled account (the caller checks): the annotation's value while status has not recorded it answered, else
 * with regenerate WhenLow a set of which codes were handed out and fewer than lowThreshold remain. A fresh set (none
 * used) never qualifies, so an app that issues fewer codes than the threshold is not asked again and again.
 */
export function regenerateRequest(mfa: ManagedAccountMfa): RegenerateRequest | undefined {
  return requested(mfa) ?? whenLow(mfa);
}

function requested(mfa: ManagedAccountMfa): RegenerateRequest | undefined {
  const asked = mfa.metadata.annotations?.[REGENERATE_CODES_ANNOTATION];
  if (!asked || requestRecord(asked) === mfa.status?.recoveryCodes?.regeneratedFor) return undefined;
  return { trigger: REGENERATE_REQUESTED_TRIGGER, request: `${REQUESTED}${asked}` };
}

function whenLow(mfa: ManagedAccountMfa): RegenerateRequest | undefined {
  const spec = mfa.spec.mfa?.recoveryCodes;
  const codes = mfa.status?.recoveryCodes;
  if (spec?.regenerate !== 'WhenLow' || !codes?.count || !runningLow(codes, spec.lowThreshold ?? DEFAULT_LOW_THRESHOLD))
    return undefined;
  return { trigger: REGENERATE_LOW_TRIGGER, request: `${LOW}${codes.version ?? codes.storedAt ?? ''}` };
}

/** Codes were handed out and fewer than the threshold remain; a threshold of 0 turns this off. */
function runningLow(codes: RecoveryCodesStatus, threshold: number): boolean {
  const used = codes.used?.length ?? 0;
  return threshold > 0 && used > 0 && (codes.remaining ?? (codes.count ?? 0) - used) < threshold;
}

/** What status.recoveryCodes.regeneratedFor records once a run of `request` succeeded; undefined for a WhenLow run. */
export function answeredRegenerateRequest(request: string | undefined): string | undefined {
  return request?.startsWith(REQUESTED) ? requestRecord(request.slice(REQUESTED.length)) : undefined;
}
