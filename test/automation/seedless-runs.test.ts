import { BatchV1Api, CoreV1Api, type V1Job } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import type { ManagedAccountMfa } from '../../operator/api/v1alpha1/types.generated.ts';
import { accountRef } from '../../operator/stores/store-resolver.ts';
import type { AutomationStep } from '../../operator/controller/managedaccountmfa/automation.ts';
import { KubernetesResultSink } from '../../operator/runner/kubernetes-sink.ts';
import { randomSeed } from '../stores/random-material.ts';
import { KubernetesSecretStore } from '../../operator/stores/kubernetes/kubernetes-secret-store.ts';
import type { ControlPlane } from '../envtest/control-plane.ts';
import { DemoRunFixture } from '../runner/demo-run-fixture.ts';
import { startClusterWithCrds } from '../support/cluster.ts';
import { createAccount, envtestDriver, finishJob, runObjectsAsSeen } from './job-stand-in.ts';

/**
 * Issue 11, item 8: a stored seed never leaves the store for a run. On a real API server with the real Kubernetes
 * store, an account is enrolled by a real enable run (Chromium, the demo app), then the operator starts a rotation and,
 * after it, a disable run; every Secret in the namespace except the store's own, every Job, Pod template and the runs'
 * RBAC objects are scanned for the stored seeds, in every encoding they could take.
 */
const NS = 'default';
let cp: ControlPlane;
let fixture: DemoRunFixture;
let core: CoreV1Api;
let batch: BatchV1Api;
let store: KubernetesSecretStore;
let jobs: V1Job[] = [];
beforeAll(async () => {
  [cp, fixture] = await Promise.all([startClusterWithCrds(), DemoRunFixture.start()]);
  core = cp.kubeConfig().makeApiClient(CoreV1Api);
  batch = cp.kubeConfig().makeApiClient(BatchV1Api);
  store = new KubernetesSecretStore(cp.kubeConfig());
}, 120_000);
afterAll(async () => {
  await fixture?.close();
  await cp?.stop();
});

const driver = () => envtestDriver(cp, store, () => jobs);

async function observe(mfa: ManagedAccountMfa): Promise<void> {
  jobs = (
    await batch.listNamespacedJob({ namespace: NS, labelSelector: `mfa-operator.io/account-uid=${mfa.metadata.uid}` })
  ).items;
}

async function apply(mfa: ManagedAccountMfa, step: AutomationStep): Promise<void> {
  mfa.status = { ...mfa.status, ...step.status };
  await step.afterStatusWritten?.();
}

/** What the Job controller and kubelet write when the run ends. */
const finish = (name: string, outcome: Record<string, unknown>) => finishJob(core, batch, NS, name, outcome);

const runsAsSeen = () => runObjectsAsSeen(cp, NS);

function expectNone(text: string, seeds: readonly TotpSeed[]): void {
  for (const seed of seeds) {
    const secret = seed.secret.reveal();
    for (const form of [secret, secret.toLowerCase(), Buffer.from(secret).toString('base64')]) {
      expect(text.includes(form), "a stored seed is in a run's Secret, Job or RBAC").toBe(false);
    }
  }
}

describe('runs never receive a stored seed (issue 11, item 8)', () => {
  it('enrol, then rotate, then disable: no run object holds the active or the pending seed', async () => {
    const account = await fixture.account();
    const mfa = await createAccount(cp, NS, 'seedless');
    const ref = accountRef(mfa);

    // Enrol for real: Chromium turns MFA on and the run writes its result Secret; the harvest stores the seed.
    await apply(mfa, await driver().step(mfa));
    await observe(mfa);
    const enable = jobs[0]!.metadata!.name!;
    const enabled = await account.run(
      { sink: { type: 'kubernetes', namespace: NS, secretName: enable } },
      new KubernetesResultSink(NS, enable, cp.kubeConfig()),
    );
    expect(enabled).toMatchObject({ outcome: 'Enabled' });
    await finish(enable, { outcome: 'Enabled', reason: 'Enabled', message: 'on', retryable: false });
    await observe(mfa);
    await apply(mfa, await driver().step(mfa));
    const S0 = (await store.readActiveSeed(ref))!.seed;
    expect(mfa.status?.mfaState).toBe('Enabled');

    // A rotation: the operator starts its run while the store holds S0 active and a pending S1 (a crashed attempt's).
    const S1 = randomSeed();
    await store.writePendingSeed(ref, S1);
    mfa.metadata.annotations = { 'mfa-operator.io/rotate': 'r1' };
    await observe(mfa);
    await apply(mfa, await driver().step(mfa));
    await observe(mfa);
    const rotate = jobs.find((j) => j.metadata?.labels?.['mfa-operator.io/action'] === 'rotate')!.metadata!.name!;
    expectNone(await runsAsSeen(), [S0, S1]);
    await finish(rotate, { outcome: 'Failed', reason: 'InvalidCredentials', message: 'refused', retryable: false });
    await observe(mfa);
    await apply(mfa, await driver().step(mfa));

    // Then turning MFA off: its run signs in with codes too.
    mfa.spec.mfa = { state: 'Disabled' };
    mfa.metadata.generation = 2;
    await observe(mfa);
    await apply(mfa, await driver().step(mfa));
    await observe(mfa);
    expect(jobs.some((j) => j.metadata?.labels?.['mfa-operator.io/action'] === 'disable')).toBe(true);
    expectNone(await runsAsSeen(), [S0, S1]);
    expect((await store.readActiveSeed(ref))?.seed.secret.reveal(), 'the store still holds the seeds').toBe(
      S0.secret.reveal(),
    );
  }, 180_000);
});
