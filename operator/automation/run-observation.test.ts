import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { observeRun, outcomeOf } from './run-observation.ts';

function job(action: string, condition: { type: string; reason?: string }): V1Job {
  return {
    metadata: {
      name: 'acct-enable-1234abcd',
      labels: { 'mfa-operator.io/action': action, 'mfa-operator.io/generation': '2', 'mfa-operator.io/attempt': '1' },
    },
    status: {
      conditions: [
        {
          type: condition.type,
          status: 'True',
          ...(condition.reason ? { reason: condition.reason } : {}),
          lastTransitionTime: new Date('2026-11-28T00:00:00Z'),
        },
      ],
    },
  };
}

const pod = (message: string): V1Pod => ({
  status: {
    containerStatuses: [
      {
        name: 'runner',
        image: 'i',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode: 1, message } },
      },
    ],
  },
});

describe('outcomeOf', () => {
  it("takes the runner's termination message when there is one", () => {
    const run = observeRun(job('enable', { type: 'Failed', reason: 'BackoffLimitExceeded' }));
    const outcome = outcomeOf(run, [
      pod(
        JSON.stringify({
          outcome: 'Failed',
          reason: 'RateLimited',
          message: 'slow down',
          retryable: true,
          retryAfterSeconds: 60,
        }),
      ),
    ]);
    expect(outcome).toMatchObject({ outcome: 'Failed', reason: 'RateLimited', retryable: true, retryAfterSeconds: 60 });
  });

  it("reports a runner that stopped on SIGTERM at the Job's deadline as a Timeout, keeping what the runner said", () => {
    const said =
      'The run was asked to stop (SIGTERM) and stopped before step login, at a point where nothing is lost; the operator will retry.';
    const terminated = pod(JSON.stringify({ outcome: 'Failed', reason: 'Terminated', message: said, retryable: true }));
    const timedOut = outcomeOf(observeRun(job('enable', { type: 'Failed', reason: 'DeadlineExceeded' })), [terminated]);
    expect(timedOut).toMatchObject({ outcome: 'Failed', reason: 'Timeout', retryable: true });
    expect(timedOut.message).toBe(
      `Job acct-enable-1234abcd: the run took longer than its deadline (activeDeadlineSeconds). ${said}`,
    );
    // Stopped for another reason (pod deleted, node drained): the runner's own word stands.
    expect(
      outcomeOf(observeRun(job('enable', { type: 'Failed', reason: 'BackoffLimitExceeded' })), [terminated]),
    ).toMatchObject({ reason: 'Terminated', message: said });
  });

  it('trusts a Complete Job whose pod is gone: the runner exits 0 only on success', () => {
    expect(outcomeOf(observeRun(job('enable', { type: 'Complete' })), [])).toMatchObject({
      outcome: 'Enabled',
      reason: 'Enabled',
    });
    expect(outcomeOf(observeRun(job('disable', { type: 'Complete' })), [])).toMatchObject({ outcome: 'Disabled' });
  });

  it('calls a failed Job without a message a crash, or a timeout past its deadline, both retried', () => {
    expect(outcomeOf(observeRun(job('enable', { type: 'Failed', reason: 'BackoffLimitExceeded' })), [])).toMatchObject({
      reason: 'RunnerCrashed',
      retryable: true,
    });
    expect(outcomeOf(observeRun(job('enable', { type: 'Failed', reason: 'DeadlineExceeded' })), [])).toMatchObject({
      reason: 'Timeout',
      retryable: true,
    });
  });
});
