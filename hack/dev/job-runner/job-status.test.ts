import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { countedStatus, finishedStatus, planJob, podForJob, sameStatus, TRACKING_FINALIZER } from './job-status.ts';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function job(spec: Partial<V1Job['spec']> = {}, status: V1Job['status'] = {}): V1Job {
  return {
    metadata: { name: 'run', namespace: 'ns', uid: 'job-uid' },
    spec: { backoffLimit: 0, completions: 1, parallelism: 1, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c' }] } }, ...spec },
    status,
  };
}

function pod(uid: string, phase: string, extra: { deleting?: boolean; counted?: boolean; ready?: boolean } = {}): V1Pod {
  return {
    metadata: {
      uid, name: `run-${uid}`, finalizers: extra.counted ? [] : [TRACKING_FINALIZER],
      ...(extra.deleting ? { deletionTimestamp: at(1) } : {}),
    },
    status: { phase, conditions: [{ type: 'Ready', status: extra.ready ? 'True' : 'False' }] },
  };
}

describe('podForJob', () => {
  it('copies the template with the job controller\'s labels, owner, finalizer and the local node', () => {
    const created = podForJob(job());
    expect(created.metadata).toMatchObject({
      generateName: 'run-', namespace: 'ns', finalizers: [TRACKING_FINALIZER],
      labels: { a: 'b', 'batch.kubernetes.io/job-name': 'run', 'job-name': 'run', 'batch.kubernetes.io/controller-uid': 'job-uid', 'controller-uid': 'job-uid' },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'run', uid: 'job-uid', controller: true, blockOwnerDeletion: true }],
    });
    expect(created.spec?.nodeName).toBe('local');
  });
});

describe('planJob', () => {
  it('starts a new Job: startTime, one pod, a deadline requeue', () => {
    const plan = planJob(job({ activeDeadlineSeconds: 60 }), [], T0);
    expect(plan.status).toMatchObject({ startTime: T0, active: 0, ready: 0, terminating: 0 });
    expect(plan.createPodInMs).toBe(0);
    expect(plan.requeueAfterMs).toBe(60_000);
    expect(plan.finished).toBeUndefined();
  });

  it('counts a running, ready pod as active and ready, and creates no second pod', () => {
    const plan = planJob(job({}, { startTime: T0 }), [pod('p1', 'Running', { ready: true })], at(5));
    expect(plan.status).toMatchObject({ active: 1, ready: 1 });
    expect(plan.createPodInMs).toBeUndefined();
  });

  it('records a succeeded pod as uncounted with SuccessCriteriaMet, then Complete with completionTime', () => {
    const succeeded = pod('p1', 'Succeeded');
    const plan = planJob(job({}, { startTime: T0 }), [succeeded], at(5));
    expect(plan.status.conditions?.map((c) => c.type)).toEqual(['SuccessCriteriaMet']);
    expect(plan.status.uncountedTerminatedPods).toEqual({ succeeded: ['p1'], failed: [] });
    expect(plan.status.succeeded).toBe(0);
    expect(plan.podsToCount).toEqual([succeeded]);
    const final = finishedStatus(countedStatus(plan.status), plan.finished!);
    expect(final).toMatchObject({ succeeded: 1, active: 0, uncountedTerminatedPods: {}, completionTime: at(5) });
    expect(final.conditions?.map((c) => [c.type, c.reason])).toEqual([['SuccessCriteriaMet', 'CompletionsReached'], ['Complete', 'CompletionsReached']]);
  });

  it('fails past backoffLimit with FailureTarget first, and no completionTime', () => {
    const plan = planJob(job({}, { startTime: T0 }), [pod('p1', 'Failed')], at(5));
    expect(plan.status.conditions?.map((c) => [c.type, c.reason])).toEqual([['FailureTarget', 'BackoffLimitExceeded']]);
    const final = finishedStatus(countedStatus(plan.status), plan.finished!);
    expect(final.conditions?.map((c) => c.type)).toEqual(['FailureTarget', 'Failed']);
    expect(final.failed).toBe(1);
    expect(final.completionTime).toBeUndefined();
  });

  it('past activeDeadlineSeconds deletes the running pod and waits for it before Failed', () => {
    const running = pod('p1', 'Running', { ready: true });
    const plan = planJob(job({ activeDeadlineSeconds: 10 }, { startTime: T0 }), [running], at(10));
    expect(plan.status.conditions?.map((c) => [c.type, c.reason])).toEqual([['FailureTarget', 'DeadlineExceeded']]);
    expect(plan.podsToDelete).toEqual([running]);
    expect(plan.status).toMatchObject({ active: 0, ready: 0, terminating: 1 });
    expect(plan.finished).toBeUndefined();

    const afterKill = planJob(job({ activeDeadlineSeconds: 10 }, plan.status), [pod('p1', 'Failed', { deleting: true })], at(12));
    expect(afterKill.status.terminating).toBe(0);
    expect(afterKill.finished).toMatchObject({ type: 'Failed', reason: 'DeadlineExceeded' });
  });

  it('retries a failed pod within backoffLimit after the job controller\'s 10 s back-off', () => {
    const failed = pod('p1', 'Failed', { counted: true });
    failed.status!.containerStatuses = [{ name: 'c', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, finishedAt: at(5) } } }];
    const plan = planJob(job({ backoffLimit: 2 }, { startTime: T0, failed: 1 }), [failed], at(8));
    expect(plan.status.conditions ?? []).toEqual([]);
    expect(plan.createPodInMs).toBe(7_000);
  });

  it('does not count a pod twice once it is listed as uncounted', () => {
    const plan = planJob(job({}, { startTime: T0, uncountedTerminatedPods: { succeeded: ['p1'] } }), [pod('p1', 'Succeeded')], at(5));
    expect(plan.status.uncountedTerminatedPods).toEqual({ succeeded: ['p1'], failed: [] });
    expect(countedStatus(plan.status).succeeded).toBe(1);
  });
});

describe('sameStatus', () => {
  it('compares as the API server stores: no zero counters, no empty lists, whole seconds', () => {
    expect(sameStatus({ active: 0, conditions: [], startTime: new Date('2026-01-01T00:00:00.400Z') }, { startTime: T0 })).toBe(true);
    expect(sameStatus({ active: 1 }, {})).toBe(false);
  });
});
