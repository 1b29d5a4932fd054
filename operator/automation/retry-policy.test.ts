import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { decideRetry } from './retry-policy.ts';
import type { ObservedRun } from './run-observation.ts';
import { DEFAULT_RUNNER_SETTINGS, type RunnerSettings } from './runner-settings.ts';

const settings: RunnerSettings = {
  ...DEFAULT_RUNNER_SETTINGS,
  image: 'img',
  retryBaseSeconds: 30,
  retryMaxSeconds: 300,
  maxAttempts: 4,
};
const finishedAt = Date.parse('2026-11-27T10:00:00Z');

function failedRun(
  retryable: boolean,
  credentialsVersion = '7',
  retryAfterSeconds = 0,
  caBundleVersion?: string,
): ObservedRun {
  const annotations = {
    'mfa-operator.io/credentials-resource-version': credentialsVersion,
    ...(caBundleVersion !== undefined ? { 'mfa-operator.io/ca-bundle-resource-version': caBundleVersion } : {}),
  };
  const job: V1Job = { metadata: { name: 'r', annotations } };
  return {
    job,
    name: 'r',
    action: 'enable',
    generation: 1,
    attempt: 1,
    request: '',
    finished: true,
    completionTime: new Date(finishedAt),
    harvested: { outcome: 'Failed', reason: 'X', retryable, retryAfterSeconds },
  };
}

describe('decideRetry', () => {
  it('backs off exponentially from the end of the last run, capped', () => {
    expect(decideRetry(failedRun(true), 1, { credentials: '7' }, settings, finishedAt + 10_000)).toEqual({
      kind: 'later',
      waitMs: 20_000,
    });
    expect(decideRetry(failedRun(true), 2, { credentials: '7' }, settings, finishedAt)).toEqual({
      kind: 'later',
      waitMs: 60_000,
    });
    expect(decideRetry(failedRun(true), 3, { credentials: '7' }, settings, finishedAt + 120_000)).toEqual({
      kind: 'now',
    });
  });

  it('caps the backoff at retryMaxSeconds, and waits it all when the run has no completion time', () => {
    expect(decideRetry(failedRun(true), 5, { credentials: '7' }, { ...settings, maxAttempts: 10 }, finishedAt)).toEqual(
      { kind: 'later', waitMs: 300_000 },
    );
    const unfinished = { ...failedRun(true) };
    delete unfinished.completionTime;
    expect(decideRetry(unfinished, 1, { credentials: '7' }, settings, finishedAt + 1e9)).toEqual({
      kind: 'later',
      waitMs: 30_000,
    });
  });

  it('counts a credentials Secret gone since the run as a change: the launch, not the retry policy, refuses it', () => {
    expect(decideRetry(failedRun(false), 1, { credentials: undefined }, settings, finishedAt)).toEqual({ kind: 'now' });
  });

  it('honours a longer Retry-After from the app', () => {
    expect(decideRetry(failedRun(true, '7', 90), 1, { credentials: '7' }, settings, finishedAt)).toEqual({
      kind: 'later',
      waitMs: 90_000,
    });
  });

  it('does not retry permanent failures or exhausted attempts until the credentials change', () => {
    expect(decideRetry(failedRun(false), 1, { credentials: '7' }, settings, finishedAt + 1e9).kind).toBe('never');
    expect(decideRetry(failedRun(true), 4, { credentials: '7' }, settings, finishedAt + 1e9).kind).toBe('never');
    expect(decideRetry(failedRun(false), 1, { credentials: '8' }, settings, finishedAt)).toEqual({ kind: 'now' });
  });

  it('re-arms a failed run when the CA bundle ConfigMap changed, and says it waits for it otherwise', () => {
    const untrusted = failedRun(false, '7', 0, '41');

    expect(decideRetry(untrusted, 1, { credentials: '7', caBundle: '42' }, settings, finishedAt)).toEqual({
      kind: 'now',
    });
    expect(decideRetry(untrusted, 1, { credentials: '7', caBundle: '' }, settings, finishedAt)).toEqual({
      kind: 'now',
    });
    const same = decideRetry(untrusted, 1, { credentials: '7', caBundle: '41' }, settings, finishedAt);
    expect(same).toMatchObject({ kind: 'never', why: expect.stringContaining('the CA bundle ConfigMap changes') });
  });

  it('re-arms a failed adoption when the Secret of spec.mfa.adoptFrom changed, and names it while it waits', () => {
    const rejected = failedRun(false);
    rejected.job.metadata!.annotations!['mfa-operator.io/adoption-source-resource-version'] = '90';

    expect(decideRetry(rejected, 1, { credentials: '7', adoptionSource: '91' }, settings, finishedAt)).toEqual({
      kind: 'now',
    });
    expect(decideRetry(rejected, 1, { credentials: '7', adoptionSource: '' }, settings, finishedAt)).toEqual({
      kind: 'now',
    });
    expect(decideRetry(rejected, 1, { credentials: '7', adoptionSource: '90' }, settings, finishedAt)).toEqual({
      kind: 'never',
      why: "This failure needs a person; the operator will not retry until the spec, the credentials Secret or spec.mfa.adoptFrom's Secret changes.",
    });
  });
});
