import { BatchV1Api, CoreV1Api, CustomObjectsApi, RbacAuthorizationV1Api, type V1Job } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobAutomationDriver } from '../../operator/automation/job-driver.ts';
import { DEFAULT_RUNNER_SETTINGS } from '../../operator/automation/runner-settings.ts';
import { accountRef } from '../../operator/stores/store-resolver.ts';
import { GROUP, MANAGED_ACCOUNT_MFA, VERSION } from '../../operator/api/v1alpha1/resources.ts';
import type { ManagedAccountMfa } from '../../operator/api/v1alpha1/types.generated.ts';
import type { AutomationStep } from '../../operator/controller/managedaccountmfa/automation.ts';
import { createLogger } from '../../core/logging/logger.ts';
import { createMetrics } from '../../operator/metrics/metrics.ts';
import { KubernetesResultSink } from '../../operator/runner/kubernetes-sink.ts';
import { KubernetesSecretStore } from '../../operator/stores/kubernetes/kubernetes-secret-store.ts';
import type { SecretStoreProvider } from '../../operator/stores/provider.ts';
import type { ControlPlane } from '../envtest/control-plane.ts';
import { DemoRunFixture } from '../runner/demo-run-fixture.ts';
import { signInWith } from '../runner/sign-in-check.ts';
import { startClusterWithCrds } from '../support/cluster.ts';

/**
 * The operator killed between every harvest step (store pending, promote, recovery codes, status, delete the result
 * Secret, mark the Job harvested), on a real API server with the real Kubernetes Secret store: a new operator (a fresh
 * driver, no memory) harvests again, and the account ends with its seed active in the store, signing in to the demo
 * app. The run is a real enable run in Chromium writing its real result Secret; the Job's and pod's final status are
 * written the way the Job controller and kubelet would.
 */
const HARVEST_STEPS = [
  'writePendingSeed',
  'promotePendingSeed',
  'writeRecoveryCodes',
  'status',
  'deleteResultSecret',
  'markHarvested',
] as const;
type HarvestStep = (typeof HARVEST_STEPS)[number];
const NS = 'default';

class OperatorKilled extends Error {}

let cp: ControlPlane;
let fixture: DemoRunFixture;
let core: CoreV1Api;
let batch: BatchV1Api;
let store: KubernetesSecretStore;
beforeAll(async () => {
  [cp, fixture] = await Promise.all([startClusterWithCrds(), DemoRunFixture.start()]);
  core = cp.kubeConfig().makeApiClient(CoreV1Api);
  batch = cp.kubeConfig().makeApiClient(BatchV1Api);
  store = new KubernetesSecretStore(cp.kubeConfig());
});
afterAll(async () => {
  await fixture?.close();
  await cp?.stop();
});

/** A driver as a freshly started operator has it; `killAfter` makes that step the last thing it does. */
function operatorProcess(jobs: () => V1Job[], killAfter?: HarvestStep): JobAutomationDriver {
  const kill = (step: HarvestStep) => {
    if (step === killAfter) throw new OperatorKilled(`killed after ${step}`);
  };
  const provider: SecretStoreProvider = {
    apiVersion: store.apiVersion,
    kind: store.kind,
    writePendingSeed: async (ref, seed) => {
      const r = await store.writePendingSeed(ref, seed);
      kill('writePendingSeed');
      return r;
    },
    promotePendingSeed: async (ref, version) => {
      const r = await store.promotePendingSeed(ref, version);
      kill('promotePendingSeed');
      return r;
    },
    writeRecoveryCodes: async (ref, codes) => {
      const r = await store.writeRecoveryCodes(ref, codes);
      kill('writeRecoveryCodes');
      return r;
    },
    readActiveSeed: (ref) => store.readActiveSeed(ref),
    readPendingSeed: (ref) => store.readPendingSeed(ref),
    readRecoveryCodes: (ref) => store.readRecoveryCodes(ref),
    readMetadata: (ref) => store.readMetadata(ref),
    delete: (ref) => store.delete(ref),
    validate: () => store.validate(),
    close: () => store.close(),
  };
  const killingCore = Object.assign(Object.create(core) as CoreV1Api, {
    deleteNamespacedSecret: async (p: { namespace: string; name: string }) => {
      const r = await core.deleteNamespacedSecret(p);
      kill('deleteResultSecret');
      return r;
    },
  });
  const killingBatch = Object.assign(Object.create(batch) as BatchV1Api, {
    patchNamespacedJob: async (...a: Parameters<BatchV1Api['patchNamespacedJob']>) => {
      const r = await batch.patchNamespacedJob(...a);
      kill('markHarvested');
      return r;
    },
  });
  return new JobAutomationDriver({
    core: killingCore,
    batch: killingBatch,
    rbac: cp.kubeConfig().makeApiClient(RbacAuthorizationV1Api),
    jobs,
    credentialsVersion: () => '1',
    stores: { forAccount: async () => ({ provider, storeKind: 'Default', description: 'Kubernetes Secrets' }) },
    settings: { ...DEFAULT_RUNNER_SETTINGS, image: 'runner:test' },
    metrics: createMetrics(),
    log: createLogger('test', { level: 'silent' }),
  });
}

/** The reconciler's order: status, then the step's follow-up work; `killAfter: 'status'` dies in between. */
async function apply(mfa: ManagedAccountMfa, step: AutomationStep, killAfter?: HarvestStep): Promise<void> {
  mfa.status = { ...mfa.status, ...step.status };
  if (killAfter === 'status') throw new OperatorKilled('killed after status');
  await step.afterStatusWritten?.();
}

/** What the Job controller and kubelet write when the run's pod exits 0 with this termination message. */
async function completeRun(name: string, message: string): Promise<void> {
  const pod = await core.createNamespacedPod({
    namespace: NS,
    body: {
      metadata: { name: `${name}-pod`, labels: { 'job-name': name } },
      spec: { containers: [{ name: 'runner', image: 'runner:test' }] },
    },
  });
  const now = new Date();
  await core.replaceNamespacedPodStatus({
    namespace: NS,
    name: pod.metadata!.name!,
    body: {
      ...pod,
      status: {
        phase: 'Succeeded',
        containerStatuses: [
          {
            name: 'runner',
            image: 'runner:test',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 0, reason: 'Completed', message, startedAt: now, finishedAt: now } },
          },
        ],
      },
    },
  });
  const job = await batch.readNamespacedJob({ namespace: NS, name });
  await batch.replaceNamespacedJobStatus({
    namespace: NS,
    name,
    body: {
      ...job,
      status: {
        startTime: now,
        succeeded: 1,
        conditions: [
          {
            type: 'SuccessCriteriaMet',
            status: 'True',
            reason: 'CompletionsReached',
            message: 'Reached expected number of succeeded pods',
            lastTransitionTime: now,
            lastProbeTime: now,
          },
          {
            type: 'Complete',
            status: 'True',
            reason: 'CompletionsReached',
            message: 'Reached expected number of succeeded pods',
            lastTransitionTime: now,
            lastProbeTime: now,
          },
        ],
        completionTime: now,
      },
    },
  });
}

describe('operator killed between harvest steps: the next operator finishes, and the stored seed signs in', () => {
  it.each(HARVEST_STEPS)(
    'killed after %s',
    async (killAfter) => {
      const account = await fixture.account();
      const name = `acct-${killAfter.toLowerCase()}`;
      const mfa = (await cp
        .kubeConfig()
        .makeApiClient(CustomObjectsApi)
        .createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: NS,
          plural: MANAGED_ACCOUNT_MFA.plural,
          body: {
            apiVersion: `${GROUP}/${VERSION}`,
            kind: MANAGED_ACCOUNT_MFA.kind,
            metadata: { name },
            spec: { connector: 'demo', account: { credentialsSecretRef: { name: `${name}-login` } } },
          },
        })) as ManagedAccountMfa;
      let jobs: V1Job[] = [];
      const observe = async () => {
        jobs = (
          await batch.listNamespacedJob({
            namespace: NS,
            labelSelector: `mfa-operator.io/account-uid=${mfa.metadata.uid}`,
          })
        ).items;
      };
      await apply(mfa, await operatorProcess(() => jobs).step(mfa));
      await observe();
      const job = jobs[0]!.metadata!.name!;
      // The run, for real: Chromium enrols the demo account and writes the run's result Secret through the runner's sink.
      const summary = await account.run(
        { sink: { type: 'kubernetes', namespace: NS, secretName: job } },
        new KubernetesResultSink(NS, job, cp.kubeConfig()),
      );
      expect(summary).toMatchObject({ outcome: 'Enabled' });
      await completeRun(
        job,
        JSON.stringify({
          outcome: summary.outcome,
          reason: summary.reason,
          message: summary.message,
          retryable: false,
        }),
      );
      await observe();

      await expect(
        (async () => apply(mfa, await operatorProcess(() => jobs, killAfter).step(mfa), killAfter))(),
      ).rejects.toThrow(OperatorKilled);
      // A new operator process: nothing carried over but what the API server and the store hold.
      for (let pass = 0; pass < 3; pass++) {
        await observe();
        if (jobs[0]!.metadata?.annotations?.['mfa-operator.io/harvested']) break;
        await apply(mfa, await operatorProcess(() => jobs).step(mfa));
      }

      await observe();
      expect(JSON.parse(jobs[0]!.metadata!.annotations!['mfa-operator.io/harvested']!)).toMatchObject({
        outcome: 'Enabled',
      });
      await expect(
        core.readNamespacedSecret({ namespace: NS, name: job }),
        'the result Secret is gone once harvested',
      ).rejects.toMatchObject({ code: 404 });
      expect(mfa.status).toMatchObject({ mfaState: 'Enabled' });
      const ref = accountRef(mfa);
      const active = (await store.readActiveSeed(ref))!;
      expect(active, 'the seed is active in the store').toBeDefined();
      expect(await store.readPendingSeed(ref)).toBeUndefined();
      expect((await store.readRecoveryCodes(ref))?.codes.reveal().length).toBe(summary.recoveryCodeCount);
      expect(await signInWith(fixture.app.url, account.email, account.password, active.seed)).toBe('Accepted');
    },
    120_000,
  );
});
