import { RUN_ANNOTATIONS } from './run-names.ts';
import type { ObservedRun } from './run-observation.ts';
import type { RunnerSettings } from './runner-settings.ts';

export type RetryDecision = { kind: 'now' } | { kind: 'later'; waitMs: number } | { kind: 'never'; why: string };

/** resourceVersions of what a run read besides the spec; '' when absent. A change re-arms a failed run. */
export interface RunInputVersions {
  credentials: string | undefined;
  /** The ConfigMap of spec.account.caBundleRef. */
  caBundle?: string;
  /** The Secret of spec.mfa.adoptFrom, for an adopt run. */
  adoptionSource?: string;
}

/**
 * After a failed run: transient failures back off exponentially up to maxAttempts; permanent ones (and
 * exhausted retries) wait for a human: a new spec generation, or a change to the credentials Secret or the CA bundle.
 */
export function decideRetry(
  last: ObservedRun,
  attempts: number,
  versions: RunInputVersions,
  settings: RunnerSettings,
  now: number,
): RetryDecision {
  if (inputsChangedSince(last, versions)) return { kind: 'now' };
  const until = untilChanged(versions);
  if (!last.harvested?.retryable)
    return { kind: 'never', why: `This failure needs a person; the operator will not retry until ${until}.` };
  if (attempts >= settings.maxAttempts) {
    return { kind: 'never', why: `${attempts} attempts failed; the operator will not retry until ${until}.` };
  }
  const waitMs =
    backoffMs(attempts, settings, last.harvested.retryAfterSeconds ?? 0) -
    (now - (last.completionTime ?? new Date(now)).getTime());
  return waitMs > 0 ? { kind: 'later', waitMs } : { kind: 'now' };
}

function untilChanged(versions: RunInputVersions): string {
  const inputs = [
    'the spec',
    'the credentials Secret',
    ...(versions.caBundle === undefined ? [] : ['the CA bundle ConfigMap']),
    ...(versions.adoptionSource === undefined ? [] : ["spec.mfa.adoptFrom's Secret"]),
  ];
  return `${inputs.slice(0, -1).join(', ')} or ${inputs.at(-1)} changes`;
}

function inputsChangedSince(run: ObservedRun, versions: RunInputVersions): boolean {
  const annotations = run.job.metadata?.annotations ?? {};
  if ((annotations[RUN_ANNOTATIONS.credentialsVersion] ?? '') !== (versions.credentials ?? '')) return true;
  if (
    versions.adoptionSource !== undefined &&
    (annotations[RUN_ANNOTATIONS.adoptionSourceVersion] ?? '') !== versions.adoptionSource
  )
    return true;
  return versions.caBundle !== undefined && (annotations[RUN_ANNOTATIONS.caBundleVersion] ?? '') !== versions.caBundle;
}

/** Exponential in the attempts made, capped, and never shorter than the app's own Retry-After. */
function backoffMs(attempts: number, settings: RunnerSettings, retryAfterSeconds: number): number {
  const exponential = Math.min(settings.retryMaxSeconds, settings.retryBaseSeconds * 2 ** (attempts - 1));
  return Math.max(exponential, retryAfterSeconds) * 1000;
}
