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

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
