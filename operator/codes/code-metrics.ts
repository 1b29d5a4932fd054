import { Counter, Histogram, type Registry } from 'prom-client';
import type { CodeErrorReason } from './code-errors.ts';

/** Bounded result labels: never a user, an account name or a code (high cardinality, and private). */
export type CodeResult =
  | 'issued'
  | 'listed'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'rate_limited'
  | 'bad_request'
  | 'unavailable'
  | 'error';

const RESULT_OF: Record<CodeErrorReason, CodeResult> = {
  BadRequest: 'bad_request',
  MethodNotAllowed: 'bad_request',
  Unauthenticated: 'unauthenticated',
  Forbidden: 'forbidden',
  ManagedAccountMfaNotFound: 'not_found',
  NoActiveSeed: 'not_found',
  NoPendingSeed: 'not_found',
  NoRecoveryCodes: 'not_found',
  RecoveryCodesUsedUp: 'not_found',
  RecoveryCodeAlreadyUsed: 'not_found',
  RateLimited: 'rate_limited',
  RunCodeBudgetExhausted: 'rate_limited',
  NextWindowTooFar: 'unavailable',
  SecretStoreUnavailable: 'unavailable',
  ReviewUnavailable: 'unavailable',
  LoginRecordUnavailable: 'unavailable',
  RecoveryCodeClaimUnavailable: 'unavailable',
  RecoveryCodesRegenerating: 'unavailable',
};

export function resultOf(reason: CodeErrorReason | undefined): CodeResult {
  return reason ? RESULT_OF[reason] : 'error';
}

/** Registers the code service's metrics on the operator's registry. */
export function createCodeMetrics(registry: Registry) {
  const registers = [registry];
  return {
    codesIssued: new Counter({
      name: 'mfa_operator_codes_issued_total',
      help: 'Code requests by purpose (display, login, run, recovery) and result (issued, listed, unauthenticated, forbidden, not_found, rate_limited, bad_request, unavailable, error).',
      labelNames: ['purpose', 'result'],
      registers,
    }),
    requestDuration: new Histogram({
      name: 'mfa_operator_code_request_duration_seconds',
      help: 'Time to answer a code request, including waits for a fresh login window.',
      labelNames: ['purpose', 'result'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 15, 40],
      registers,
    }),
  };
}

export type CodeMetrics = ReturnType<typeof createCodeMetrics>;
