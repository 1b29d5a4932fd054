import { BatchV1Api, CoreV1Api, CustomObjectsApi, RbacAuthorizationV1Api, type V1Job } from '@kubernetes/client-node';
import { createLogger } from '../../core/logging/logger.ts';
import { GROUP, MANAGED_ACCOUNT_MFA, VERSION } from '../../operator/api/v1alpha1/resources.ts';
import type { Condition, ManagedAccountMfa } from '../../operator/api/v1alpha1/types.generated.ts';
import type { ConditionUpdate } from '../../operator/controller/status/conditions.ts';
import { JobAutomationDriver, type JobDriverDeps } from '../../operator/automation/job-driver.ts';
import { DEFAULT_RUNNER_SETTINGS } from '../../operator/automation/runner-settings.ts';
import { createMetrics } from '../../operator/metrics/metrics.ts';
import type { SecretStoreProvider } from '../../operator/stores/provider.ts';
import type { ControlPlane } from '../envtest/control-plane.ts';

/**
 * The controller's job driver on a real API server, with one store for every account and a Job cache the test fills
 * (as the informer would); `extra` adds or overrides deps (the adoption source's cache).
 */
export function envtestDriver(
  cp: ControlPlane,
  store: SecretStoreProvider,
  jobs: () => V1Job[],
  extra: Partial<JobDriverDeps> = {},
): JobAutomationDriver {
  const kc = cp.kubeConfig();
  return new JobAutomationDriver({
    core: kc.makeApiClient(CoreV1Api),
    batch: kc.makeApiClient(BatchV1Api),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
    jobs,
    credentialsVersion: () => '1',
    stores: { forAccount: async () => ({ provider: store, storeKind: 'Default', description: 'Kubernetes Secrets' }) },
    settings: { ...DEFAULT_RUNNER_SETTINGS, image: 'runner:test' },
    metrics: createMetrics(),
    log: createLogger('test', { level: 'silent' }),
    codeService: {
      url: 'https://mfa-operator-codes.mfa-operator-system.svc',
      caBundle: 'PEM',
      audience: 'mfa-operator.io/code-service',
    },
    ...extra,
  });
}

/** A demo-connector ManagedAccountMfa as a user creates it, its credentials Secret named `<name>-login`. */
export async function createAccount(
  cp: ControlPlane,
  namespace: string,
  name: string,
  spec: Partial<ManagedAccountMfa['spec']> = {},
): Promise<ManagedAccountMfa> {
  return (await cp
    .kubeConfig()
    .makeApiClient(CustomObjectsApi)
    .createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: MANAGED_ACCOUNT_MFA.plural,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: MANAGED_ACCOUNT_MFA.kind,
        metadata: { name },
        spec: { connector: 'demo', account: { credentialsSecretRef: { name: `${name}-login` } }, ...spec },
      },
    })) as ManagedAccountMfa;
}

/**
 * What the Job controller and kubelet write when a run ends, for tests on an API server without them: a pod of the
 * Job whose runner container terminated with `outcome` as its termination message, and the Job's finished status.
 */
export async function finishJob(
  core: CoreV1Api,
  batch: BatchV1Api,
  namespace: string,
  name: string,
  outcome: Record<string, unknown>,
): Promise<void> {
  const now = new Date();
  const failed = outcome.outcome === 'Failed';
  const pod = await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: `${name}-pod`, labels: { 'job-name': name } },
      spec: { containers: [{ name: 'runner', image: 'runner:test' }] },
    },
  });
  await core.replaceNamespacedPodStatus({
    namespace,
    name: pod.metadata!.name!,
    body: {
      ...pod,
      status: {
        phase: failed ? 'Failed' : 'Succeeded',
        containerStatuses: [
          {
            name: 'runner',
            image: 'runner:test',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: {
              terminated: {
                exitCode: failed ? 1 : 0,
                message: JSON.stringify(outcome),
                startedAt: now,
                finishedAt: now,
              },
            },
          },
        ],
      },
    },
  });
  const job = await batch.readNamespacedJob({ namespace, name });
  const conditions = failed
    ? [
        {
          type: 'FailureTarget',
          status: 'True',
          reason: 'BackoffLimitExceeded',
          message: 'failed',
          lastTransitionTime: now,
          lastProbeTime: now,
        },
        {
          type: 'Failed',
          status: 'True',
          reason: 'BackoffLimitExceeded',
          message: 'failed',
          lastTransitionTime: now,
          lastProbeTime: now,
        },
      ]
    : [
        {
          type: 'SuccessCriteriaMet',
          status: 'True',
          reason: 'CompletionsReached',
          message: 'done',
          lastTransitionTime: now,
          lastProbeTime: now,
        },
        {
          type: 'Complete',
          status: 'True',
          reason: 'CompletionsReached',
          message: 'done',
          lastTransitionTime: now,
          lastProbeTime: now,
        },
      ];
  await batch.replaceNamespacedJobStatus({
    namespace,
    name,
    body: {
      ...job,
      status: {
        startTime: now,
        ...(failed ? { failed: 1 } : { succeeded: 1, completionTime: now }),
        conditions,
      },
    },
  });
}

/** The account's run Jobs as the driver's informer would hold them (by the account-uid label). */
export async function runJobsOf(batch: BatchV1Api, mfa: ManagedAccountMfa): Promise<V1Job[]> {
  const namespace = mfa.metadata.namespace!;
  return (
    await batch.listNamespacedJob({ namespace, labelSelector: `mfa-operator.io/account-uid=${mfa.metadata.uid}` })
  ).items;
}

/** The conditions with `updates` set, by type, as the reconciler writes them (generation 1). */
export function mergedConditions(before: readonly Condition[], updates: readonly ConditionUpdate[]): Condition[] {
  const byType = new Map(before.map((c) => [c.type, c]));
  for (const c of updates)
    byType.set(c.type, { ...c, lastTransitionTime: new Date().toISOString(), observedGeneration: 1 });
  return [...byType.values()];
}

/**
 * Everything of the runs a namespace reader sees, decoded: Secrets (not the store's material nor the owners' labelled
 * credentials and adoption sources), Jobs, Pods, ServiceAccounts and Roles.
 */
export async function runObjectsAsSeen(cp: ControlPlane, namespace: string): Promise<string> {
  const kc = cp.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const secrets = (await core.listNamespacedSecret({ namespace })).items.filter(
    (s) => !s.metadata?.labels?.['mfa-operator.io/material'] && !s.metadata?.labels?.['mfa-operator.io/credentials'],
  );
  const decoded = secrets.flatMap((s) =>
    Object.values(s.data ?? {}).map((v) => Buffer.from(v, 'base64').toString('utf8')),
  );
  return [
    JSON.stringify(secrets),
    ...decoded,
    JSON.stringify((await kc.makeApiClient(BatchV1Api).listNamespacedJob({ namespace })).items),
    JSON.stringify((await core.listNamespacedPod({ namespace })).items),
    JSON.stringify((await core.listNamespacedServiceAccount({ namespace })).items),
    JSON.stringify((await kc.makeApiClient(RbacAuthorizationV1Api).listNamespacedRole({ namespace })).items),
  ].join('\n');
}
