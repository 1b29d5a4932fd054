import { CoreV1Api, type V1Job } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_CODE_BUDGET } from '../../operator/codes/run-code-budget.ts';
import { kubectlOk } from '../support/kubectl.ts';
import { CodeServiceFixture } from './code-service-fixture.ts';
import { randomSeed, validates } from '../stores/random-material.ts';

/**
 * The code service's run endpoint (issue 11, item 8), played by an attacker on a real API server: real TokenReview,
 * real Jobs and pods, the real Kubernetes store. Only a run's own pod-less or pod-bound ServiceAccount token, while
 * its Job runs, gets codes, and only its own account's.
 */
const NS = 'team-runs';
const SEED_A = randomSeed();
const PENDING_A = randomSeed();
const SEED_B = randomSeed();
const FAST = randomSeed({ period: 5 });
const fixture = new CodeServiceFixture();
let core: CoreV1Api;
const jobs: Record<string, V1Job> = {};
const tokens: Record<string, string> = {};

/** A run Job of the account as the operator creates it, and its ServiceAccount's token. */
async function runJob(name: string, account: string): Promise<V1Job> {
  const { job, token } = await fixture.runJob(NS, name, account);
  tokens[name] = token;
  jobs[name] = job;
  return job;
}

/** A pod owned by `job` that runs as `serviceAccount`, and a token bound to it (as a projected volume holds). */
async function podBoundToken(podName: string, job: V1Job, serviceAccount: string): Promise<string> {
  const pod = await core.createNamespacedPod({
    namespace: NS,
    body: {
      metadata: {
        name: podName,
        labels: { 'batch.kubernetes.io/job-name': job.metadata!.name! },
        ownerReferences: [
          { apiVersion: 'batch/v1', kind: 'Job', name: job.metadata!.name!, uid: job.metadata!.uid!, controller: true },
        ],
      },
      spec: { serviceAccountName: serviceAccount, containers: [{ name: 'runner', image: 'runner:test' }] },
    },
  });
  return (
    await kubectlOk(fixture.cp.kubeconfigPath, [
      'create',
      'token',
      serviceAccount,
      '-n',
      NS,
      '--audience=mfa-operator.io/code-service',
      '--bound-object-kind=Pod',
      `--bound-object-name=${podName}`,
      `--bound-object-uid=${pod.metadata!.uid}`,
    ])
  ).trim();
}

const runPath = (job: string, slot: string) => `/v1/namespaces/${NS}/runs/${job}/code?slot=${slot}`;

/** Waits until the code service's Job watch has seen a change (a finished or harvested Job). */
async function untilRefused(path: string, token: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const answer = await fixture.get(path, token);
    if (answer.status !== 200) return answer.status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return 200;
}

beforeAll(async () => {
  await fixture.start({ ratePerMinute: 6_000, burst: 1_000 });
  core = fixture.cp.kubeConfig().makeApiClient(CoreV1Api);
  await fixture.namespace(NS);
  await fixture.account(NS, 'acct-a', SEED_A);
  await fixture.storeSeed(NS, 'acct-a', PENDING_A, 'pending');
  await fixture.account(NS, 'acct-b', SEED_B);
  await fixture.account(NS, 'acct-fast', FAST);
  for (const [job, account] of [
    ['a-rotate-1', 'acct-a'],
    ['b-rotate-1', 'acct-b'],
    ['a-done-1', 'acct-a'],
    ['a-harvested-1', 'acct-a'],
    ['fast-rotate-1', 'acct-fast'],
  ] as const) {
    await runJob(job, account);
  }
  tokens.alice = await fixture.serviceAccountToken(NS, 'alice');
  await fixture.allowCodes(NS, 'alice');
  tokens.ghost = await fixture.serviceAccountToken(NS, 'ghost-rotate-1');
}, 240_000);
afterAll(() => fixture.stop());

describe('code service run endpoint', () => {
  it("gives a run its slots, pending first, and login codes of its own account's seeds", async () => {
    const slots = await fixture.get(`/v1/namespaces/${NS}/runs/a-rotate-1/slots`, tokens['a-rotate-1']);
    const pending = await fixture.get(runPath('a-rotate-1', 'pending'), tokens['a-rotate-1']);
    const active = await fixture.get(runPath('a-rotate-1', 'active'), tokens['a-rotate-1']);

    expect(slots.status).toBe(200);
    expect(slots.json()).toEqual({ slots: ['pending', 'active'] });
    expect(validates(PENDING_A, pending.json().code)).toBe(true);
    expect(validates(SEED_A, active.json().code)).toBe(true);
    const audit = fixture.auditRecords().filter((r) => r.purpose === 'run' && r.result === 'issued');
    expect(audit.map((r) => [r.job, r.slot, r.name])).toEqual([
      ['a-rotate-1', 'pending', 'acct-a'],
      ['a-rotate-1', 'active', 'acct-a'],
    ]);
    const metrics = await fixture.registry.getSingleMetricAsString('mfa_operator_codes_issued_total');
    expect(metrics).toMatch(/mfa_operator_codes_issued_total\{purpose="run",result="issued"\} 2/);
  }, 120_000);

  it("refuses account A's run asking for account B's run (another run's ServiceAccount)", async () => {
    const answer = await fixture.get(runPath('b-rotate-1', 'active'), tokens['a-rotate-1']);

    expect(answer.status).toBe(403);
    expect(answer.json()).toMatchObject({ reason: 'Forbidden' });
    expect(answer.json().message).toContain("only the run's own ServiceAccount");
  });

  it('refuses a person with managedaccountmfas/code RBAC: the endpoint is for runs only', async () => {
    const allowedOnAccounts = await fixture.get(fixture.codePath(NS, 'acct-a'), tokens.alice);
    const runCode = await fixture.get(runPath('a-rotate-1', 'active'), tokens.alice);

    expect(allowedOnAccounts.status).toBe(200);
    expect(runCode.status).toBe(403);
  });

  it("refuses a token for the API server's audience, even the run's own", async () => {
    const apiServerToken = await fixture.token(NS, 'a-rotate-1', null);

    expect((await fixture.get(runPath('a-rotate-1', 'active'), apiServerToken)).status).toBe(401);
  });

  it('refuses a made-up run: a ServiceAccount named like a run, with no Job', async () => {
    const answer = await fixture.get(runPath('ghost-rotate-1', 'active'), tokens.ghost);

    expect(answer.status).toBe(403);
    expect(answer.json().message).toContain('there is no run Job');
  });

  it('refuses a finished run and a harvested one', async () => {
    await fixture.finishJob(NS, jobs['a-done-1']!);
    await kubectlOk(fixture.cp.kubeconfigPath, [
      'annotate',
      'job',
      'a-harvested-1',
      '-n',
      NS,
      'mfa-operator.io/harvested={"outcome":"Failed","reason":"X","retryable":true}',
    ]);

    expect(await untilRefused(runPath('a-done-1', 'active'), tokens['a-done-1']!)).toBe(403);
    expect(await untilRefused(runPath('a-harvested-1', 'active'), tokens['a-harvested-1']!)).toBe(403);
  }, 60_000);

  it('refuses a slot other than pending or active', async () => {
    for (const slot of ['recovery-codes', 'seed', ''])
      expect((await fixture.get(runPath('a-rotate-1', slot), tokens['a-rotate-1'])).status).toBe(400);
  });

  it("serves a token bound to the Job's own pod, and refuses one bound to another Job's pod", async () => {
    const own = await podBoundToken('a-rotate-1-own', jobs['a-rotate-1']!, 'a-rotate-1');
    const foreign = await podBoundToken('b-rotate-1-pod', jobs['b-rotate-1']!, 'a-rotate-1');

    expect((await fixture.get(`/v1/namespaces/${NS}/runs/a-rotate-1/slots`, own)).status).toBe(200);
    const refused = await fixture.get(`/v1/namespaces/${NS}/runs/a-rotate-1/slots`, foreign);
    expect(refused.status).toBe(403);
    expect(refused.json().message).toContain("bound to a pod that is not this Job's");
  });

  it(`refuses a run's code beyond its budget of ${RUN_CODE_BUDGET} with 429`, async () => {
    const statuses: number[] = [];
    for (let i = 0; i <= RUN_CODE_BUDGET; i++)
      statuses.push((await fixture.get(runPath('fast-rotate-1', 'active'), tokens['fast-rotate-1'])).status);

    expect(statuses).toEqual([...Array<number>(RUN_CODE_BUDGET).fill(200), 429]);
    expect(fixture.answers.at(-1)!.json()).toMatchObject({ reason: 'RunCodeBudgetExhausted' });
  }, 120_000);

  it('never answers with a seed', () => {
    const all = fixture.answers.map((a) => a.body).join('\n') + fixture.logLines.join('\n');
    for (const seed of [SEED_A, PENDING_A, SEED_B, FAST]) expect(all.includes(seed.secret.reveal())).toBe(false);
  });
});
