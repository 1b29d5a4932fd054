import { ApiException } from '@kubernetes/client-node';

/**
 * Why the local job runner could not run something. `retryable` failures (a Secret not created yet) keep the
 * pod waiting and are tried again, as kubelet does; the others fail the container at once.
 */
export type JobRunnerErrorReason =
  | 'MountNamespaceUnavailable'
  | 'CreateContainerConfigError'
  | 'FailedMount'
  | 'StartError'
  | 'InvalidOptions';

export class JobRunnerError extends Error {
  readonly reason: JobRunnerErrorReason;
  readonly retryable: boolean;

  constructor(reason: JobRunnerErrorReason, message: string, retryable = false) {
    super(message);
    this.name = 'JobRunnerError';
    this.reason = reason;
    this.retryable = retryable;
  }
}

/** A one-line description; for an API error, its HTTP code and the API server's own message. */
export function describeError(err: unknown): string {
  if (err instanceof ApiException) return `HTTP ${err.code}: ${apiMessage(err.body)}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

function apiMessage(body: unknown): string {
  try {
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string };
    return status.message ?? String(body);
  } catch {
    return String(body);
  }
}
