import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { decideRetry } from './retry-policy.ts';
import type { ObservedRun } from './run-observation.ts';
import { DEFAULT_RUNNER_SETTINGS, type RunnerSettings } from './runner-settings.ts';

const settings: RunnerSettings = { ...DEFAULT_RUNNER_SETTINGS, image: 'img', retryBaseSeconds: 30, retryMaxSeconds: 300, maxAttempts: 4 };
const finishedAt = Date.parse('2026-11-27T10:00:00Z');

function failedRun(retryable: boolean, credentialsVersion = '7', retryAfterSeconds = 0): ObservedRun {
  const job: V1Job = { metadata: { name: 'r', annotations: { 'mfa-operator.io/credentials-resource-version': credentialsVersion } } };
  return { job, name: 'r', action: 'enable', generation: 1, attempt: 1, request: '', finished: true, completionTime: new Date(finishedAt), harvested: { outcome: 'Failed', reason: 'X', retryable, retryAfterSeconds } };
}

describe('decideRetry', () => {
  it('backs off exponentially from the end of the last run, capped', () => {
    expect(decideRetry(failedRun(true), 1, '7', settings, finishedAt + 10_000)).toEqual({ kind: 'later', waitMs: 20_000 });
    expect(decideRetry(failedRun(true), 2, '7', settings, finishedAt)).toEqual({ kind: 'later', waitMs: 60_000 });
    expect(decideRetry(failedRun(true), 3, '7', settings, finishedAt + 120_000)).toEqual({ kind: 'now' });
  });

  it('honours a longer Retry-After from the app', () => {
    expect(decideRetry(failedRun(true, '7', 90), 1, '7', settings, finishedAt)).toEqual({ kind: 'later', waitMs: 90_000 });
  });

  it('does not retry permanent failures or exhausted attempts until the credentials change', () => {
    expect(decideRetry(failedRun(false), 1, '7', settings, finishedAt + 1e9).kind).toBe('never');
    expect(decideRetry(failedRun(true), 4, '7', settings, finishedAt + 1e9).kind).toBe('never');
    expect(decideRetry(failedRun(false), 1, '8', settings, finishedAt)).toEqual({ kind: 'now' });
  });
});
