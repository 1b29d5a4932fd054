import { RUN_ANNOTATIONS } from './run-names.ts';
import type { ObservedRun } from './run-observation.ts';
import type { RunnerSettings } from './runner-settings.ts';

export type RetryDecision =
  | { kind: 'now' }
  | { kind: 'later'; waitMs: number }
  | { kind: 'never'; why: string };

/**
 * After a failed run: transient failures back off exponentially up to maxAttempts; permanent ones (and
 * exhausted retries) wait for a human: a new spec generation, or a change to the credentials Secret.
 */
export function decideRetry(last: ObservedRun, attempts: number, credentialsVersion: string | undefined, settings: RunnerSettings, now: number): RetryDecision {
  if (credentialsChangedSince(last, credentialsVersion)) return { kind: 'now' };
  if (!last.harvested?.retryable) return { kind: 'never', why: 'This failure needs a person; the operator will not retry until the spec or the credentials Secret changes.' };
  if (attempts >= settings.maxAttempts) {
    return { kind: 'never', why: `${attempts} attempts failed; the operator will not retry until the spec or the credentials Secret changes.` };
  }
  const waitMs = backoffMs(attempts, settings, last.harvested.retryAfterSeconds ?? 0) - (now - (last.completionTime ?? new Date(now)).getTime());
  return waitMs > 0 ? { kind: 'later', waitMs } : { kind: 'now' };
}

function credentialsChangedSince(run: ObservedRun, credentialsVersion: string | undefined): boolean {
  return (run.job.metadata?.annotations?.[RUN_ANNOTATIONS.credentialsVersion] ?? '') !== (credentialsVersion ?? '');
}

/** Exponential in the attempts made, capped, and never shorter than the app's own Retry-After. */
function backoffMs(attempts: number, settings: RunnerSettings, retryAfterSeconds: number): number {
  const exponential = Math.min(settings.retryMaxSeconds, settings.retryBaseSeconds * 2 ** (attempts - 1));
  return Math.max(exponential, retryAfterSeconds) * 1000;
}
