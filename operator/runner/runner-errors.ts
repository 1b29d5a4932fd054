import { isConnectorError } from '../../connectors/sdk/errors.ts';
import { UnknownConnectorError } from '../../connectors/sdk/registry.ts';
import { InvalidRunSpecError } from '../run-contract/run-spec.ts';
import type { SecretScrubber } from './secret-scrubber.ts';

export type RunnerErrorReason =
  | 'SeedNotFound'
  | 'CredentialsUnavailable'
  | 'Terminated'
  | 'CABundleInvalid'
  | 'TrustStoreUnavailable'
  | 'CodeServiceUnavailable'
  // The stored seeds were refused and the code service gave no recovery code that a retry could change.
  | 'RecoveryCodeUnavailable'
  // What a verification finds drifted (verify-totp.ts).
  | 'MfaTurnedOff'
  | 'SeedRejected'
  | 'OtherMfaMethodAdded'
  // Why an adoption (spec.mfa.adoptFrom) did not take the seed (adopt-seed.ts).
  | 'AdoptionSeedRejected'
  | 'AdoptionMfaOff'
  // The connector has no regenerateRecoveryCodes (regenerate-recovery-codes.ts).
  | 'RecoveryCodesRegenerationUnsupported';

/** Failures of the run itself rather than of the app's pages. */
export class RunnerError extends Error {
  readonly reason: RunnerErrorReason;
  readonly retryable: boolean;

  constructor(reason: RunnerErrorReason, message: string, retryable = false) {
    super(message);
    this.name = 'RunnerError';
    this.reason = reason;
    this.retryable = retryable;
  }
}

export interface FailureDescription {
  reason: string;
  message: string;
  retryable: boolean;
  retryAfterSeconds?: number;
}

/**
 * Reason and message for the outcome summary. Our own errors carry messages written to be shown;
 * anything else is reported by class name only, since its message may echo page content.
 */
export function describeFailure(e: unknown, scrubber: SecretScrubber): FailureDescription {
  if (isConnectorError(e)) {
    return {
      reason: e.reason,
      message: scrubber.scrub(e.message),
      retryable: e.retryable,
      ...(e.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: e.retryAfterSeconds }),
    };
  }
  if (e instanceof RunnerError) return { reason: e.reason, message: scrubber.scrub(e.message), retryable: e.retryable };
  if (e instanceof InvalidRunSpecError || e instanceof UnknownConnectorError) {
    return { reason: e.reason, message: scrubber.scrub(e.message), retryable: false };
  }
  const name = e instanceof Error ? e.name : typeof e;
  return {
    reason: 'UnexpectedError',
    message: `The run failed with an unexpected ${name}; see the runner log. The run will retry.`,
    retryable: true,
  };
}
