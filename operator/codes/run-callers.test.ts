import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Caller } from './caller-review.ts';
import { authorizeRun, POD_UID_EXTRA, type RunJobs } from './run-callers.ts';

const NS = 'team-a';
const JOB = 'acct-rotate-1a2b3c4d';
const ACCOUNT_UID = 'uid-acct';

function job(
  overrides: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    status?: V1Job['status'];
    owners?: boolean;
  } = {},
): V1Job {
  return {
    metadata: {
      name: JOB,
      namespace: NS,
      uid: 'job-uid',
      labels: {
        'app.kubernetes.io/managed-by': 'mfa-operator',
        'app.kubernetes.io/component': 'automation-run',
        'mfa-operator.io/account-uid': ACCOUNT_UID,
        ...overrides.labels,
      },
      ...(overrides.annotations ? { annotations: overrides.annotations } : {}),
      ownerReferences:
        overrides.owners === false
          ? []
          : [
              {
                apiVersion: 'mfa-operator.io/v1alpha1',
                kind: 'ManagedAccountMfa',
                name: 'acct',
                uid: ACCOUNT_UID,
                controller: true,
              },
            ],
    },
    status: overrides.status ?? {},
  };
}

function pod(uid: string, jobUid: string): V1Pod {
  return {
    metadata: {
      name: `${JOB}-x`,
      namespace: NS,
      uid,
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: JOB, uid: jobUid, controller: true }],
    },
  };
}

function jobs(found: V1Job | undefined, pods: V1Pod[] = []): RunJobs {
  return { job: async (ns, name) => (found && ns === NS && name === JOB ? found : undefined), pods: async () => pods };
}

const runAccount: Caller = { username: `system:serviceaccount:${NS}:${JOB}`, groups: ['system:serviceaccounts'] };

describe("authorizeRun: only a run's own ServiceAccount, while its Job runs", () => {
  it('grants the run its account, found from the Job (label and owner), never from the request', async () => {
    expect(await authorizeRun(jobs(job()), runAccount, NS, JOB)).toEqual({
      namespace: NS,
      job: JOB,
      jobUid: 'job-uid',
      accountName: 'acct',
      accountUid: ACCOUNT_UID,
    });
  });

  it.each([
    {
      name: "another run's ServiceAccount",
      caller: { ...runAccount, username: `system:serviceaccount:${NS}:other-enable-99999999` },
      found: job(),
      why: /only the run's own ServiceAccount/,
    },
    {
      name: 'the same run name in another namespace',
      caller: { ...runAccount, username: `system:serviceaccount:team-b:${JOB}` },
      found: job(),
      why: /only the run's own ServiceAccount/,
    },
    {
      name: 'a person with managedaccountmfas/code RBAC',
      caller: { username: 'alice', groups: ['system:authenticated'] },
      found: job(),
      why: /not "alice"/,
    },
    { name: 'a made-up run (no such Job)', caller: runAccount, found: undefined, why: /there is no run Job/ },
    {
      name: 'a Job without the run labels',
      caller: runAccount,
      found: job({ labels: { 'app.kubernetes.io/component': 'other' } }),
      why: /there is no run Job/,
    },
    {
      name: 'a finished run',
      caller: runAccount,
      found: job({ status: { conditions: [{ type: 'Complete', status: 'True' }] } }),
      why: /the run has finished/,
    },
    {
      name: 'a failed run',
      caller: runAccount,
      found: job({ status: { conditions: [{ type: 'Failed', status: 'True' }] } }),
      why: /the run has finished/,
    },
    {
      name: 'a harvested run',
      caller: runAccount,
      found: job({
        annotations: { 'mfa-operator.io/harvested': '{"outcome":"Failed","reason":"X","retryable":true}' },
      }),
      why: /the run has finished/,
    },
    {
      name: 'a Job whose account-uid label no owner reference carries',
      caller: runAccount,
      found: job({ labels: { 'mfa-operator.io/account-uid': 'uid-of-another-account' } }),
      why: /names no account/,
    },
    { name: 'a Job with no owner', caller: runAccount, found: job({ owners: false }), why: /names no account/ },
  ])('refuses $name with 403 Forbidden', async ({ caller, found, why }) => {
    await expect(authorizeRun(jobs(found), caller, NS, JOB)).rejects.toMatchObject({
      reason: 'Forbidden',
      status: 403,
      message: expect.stringMatching(why),
    });
  });

  it("checks a pod-bound token's pod: the Job's own passes, another's is refused", async () => {
    const bound = (uid: string): Caller => ({ ...runAccount, extra: { [POD_UID_EXTRA]: [uid] } });
    const pods = [pod('pod-of-job', 'job-uid'), pod('pod-of-old-job', 'another-job-uid')];

    await expect(authorizeRun(jobs(job(), pods), bound('pod-of-job'), NS, JOB)).resolves.toMatchObject({
      accountUid: ACCOUNT_UID,
    });
    await expect(authorizeRun(jobs(job(), pods), bound('pod-of-old-job'), NS, JOB)).rejects.toMatchObject({
      reason: 'Forbidden',
    });
    await expect(authorizeRun(jobs(job(), pods), bound('unknown-pod'), NS, JOB)).rejects.toMatchObject({
      reason: 'Forbidden',
    });
  });
});
