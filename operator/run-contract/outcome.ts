import type { TotpSeedMetadata } from '../../core/totp/totp-seed.ts';
import type { RunAction } from './run-spec.ts';

export const SUCCESS_OUTCOMES = ['Enabled', 'Adopted', 'Disabled', 'Verified', 'RecoveryCodesRegenerated'] as const;
export type SuccessOutcome = (typeof SUCCESS_OUTCOMES)[number];
export type Outcome = SuccessOutcome | 'Failed';

/** Names of the runner's steps, in order; also the names a crash test can pause after. */
export const RUN_STEPS = [
  'resolveLoginUrl',
  'readCredentials',
  'trustCaBundle',
  'startBrowser',
  'login',
  'readMfaState',
  'beginEnrollment',
  'storePendingSeed',
  'confirmEnrollment',
  'readRecoveryCodes',
  'storeRecoveryCodes',
  'acknowledgeRecoveryCodes',
  'markConfirmed',
  'verifyStoredSeed',
  'regenerateRecoveryCodes',
  'disableTotp',
  'markDisabled',
] as const;
export type RunStep = (typeof RUN_STEPS)[number];

export interface StepTiming {
  name: RunStep;
  durationMs: number;
  result: 'ok' | 'failed';
}

/**
 * The non-secret summary of one run: printed to stdout and written as the container's
 * termination message, where the controller reads it. Only fields listed here ever leave the pod
 * this way; secrets have no field to travel in.
 */
export interface OutcomeSummary {
  outcome: Outcome;
  /** CamelCase; equal to the outcome on success, the failure reason otherwise. */
  reason: string;
  message: string;
  retryable: boolean;
  retryAfterSeconds?: number;
  action: RunAction | 'unknown';
  connector: { id: string; version?: string };
  steps: StepTiming[];
  seed?: TotpSeedMetadata;
  recoveryCodeCount?: number;
  artifacts?: string[];
  startedAt: string;
  finishedAt: string;
}

/** What the controller reads of a summary; the rest is for people reading the pod's output. */
export type RunOutcome = Pick<
  OutcomeSummary,
  'outcome' | 'reason' | 'message' | 'retryable' | 'retryAfterSeconds' | 'seed' | 'recoveryCodeCount'
>;

/** Kubernetes keeps at most 4096 bytes of a termination message. */
const TERMINATION_MESSAGE_LIMIT = 4096;

export function isSuccess(summary: Pick<OutcomeSummary, 'outcome'>): boolean {
  return summary.outcome !== 'Failed';
}

/** The JSON written out; step details are dropped first if the summary would not fit. */
export function renderSummary(summary: OutcomeSummary): string {
  const full = JSON.stringify(summary);
  if (Buffer.byteLength(full) <= TERMINATION_MESSAGE_LIMIT) return full;
  const compact = JSON.stringify({ ...summary, steps: summary.steps.map(({ name, result }) => ({ name, result })) });
  if (Buffer.byteLength(compact) <= TERMINATION_MESSAGE_LIMIT) return compact;
  return JSON.stringify({ ...summary, steps: [], message: summary.message.slice(0, 1000) });
}

/** The controller's reading of a termination message; undefined when it is not a summary (a crash's last words). */
export function parseRunOutcome(message: string): RunOutcome | undefined {
  try {
    const value = JSON.parse(message) as Partial<RunOutcome>;
    if (typeof value.outcome !== 'string' || typeof value.reason !== 'string') return undefined;
    return {
      outcome: value.outcome,
      reason: value.reason,
      message: String(value.message ?? ''),
      retryable: Boolean(value.retryable),
      ...(value.retryAfterSeconds ? { retryAfterSeconds: value.retryAfterSeconds } : {}),
      ...(value.seed ? { seed: value.seed } : {}),
      ...(value.recoveryCodeCount !== undefined ? { recoveryCodeCount: value.recoveryCodeCount } : {}),
    };
  } catch {
    return undefined;
  }
}
