/**
 * Why the code service refused a request. Each reason maps to one HTTP status and one bounded
 * metric result; messages say what to do and never quote a token, a seed or a code.
 */
export const CODE_ERROR_STATUS = {
  BadRequest: 400,
  Unauthenticated: 401,
  Forbidden: 403,
  ManagedAccountMfaNotFound: 404,
  NoActiveSeed: 404,
  NoPendingSeed: 404,
  NoRecoveryCodes: 404,
  MethodNotAllowed: 405,
  RecoveryCodeAlreadyUsed: 409,
  RecoveryCodesUsedUp: 410,
  RateLimited: 429,
  RunCodeBudgetExhausted: 429,
  NextWindowTooFar: 503,
  SecretStoreUnavailable: 503,
  ReviewUnavailable: 503,
  LoginRecordUnavailable: 503,
  RecoveryCodeClaimUnavailable: 503,
  RecoveryCodesRegenerating: 503,
} as const;

export type CodeErrorReason = keyof typeof CODE_ERROR_STATUS;

export class CodeServiceError extends Error {
  readonly reason: CodeErrorReason;
  readonly status: number;
  /** Seconds after which the same request may succeed (Retry-After). */
  readonly retryAfterSeconds?: number;

  constructor(reason: CodeErrorReason, message: string, retryAfterSeconds?: number) {
    super(message);
    this.name = 'CodeServiceError';
    this.reason = reason;
    this.status = CODE_ERROR_STATUS[reason];
    if (retryAfterSeconds !== undefined) this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function isCodeServiceError(e: unknown): e is CodeServiceError {
  return e instanceof CodeServiceError;
}
