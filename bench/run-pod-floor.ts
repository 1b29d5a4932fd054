/**
 * The cluster's floor for time-to-mfa: the same run pod the operator would launch (runObjects: the image, its
 * security context, Secret volumes, resources), created as a Job by hand with the runner writing to a file in the
 * pod. What it skips is the operator: no reconcile, no result Secret contract, no harvest, no status writes.
 */
import { BatchV1Api, CoreV1Api, type V1Job } from '@kubernetes/client-node';
import type { ManagedAccountMfa } from '../operator/api/v1alpha1/types.generated.ts';
import { runObjects } from '../operator/automation/run-objects.ts';
import { loadRunnerSettings } from '../operator/automation/runner-settings.ts';
import { RESULT_KEYS } from '../operator/run-contract/result-secret.ts';
import { RUN_CONTRACT_VERSION, type RunSpec } from '../operator/run-contract/run-spec.ts';
import { DEMO_APP_SERVICE_IP } from '../test/support/demo-app-in-cluster.ts';
import type { E2eEnvironment } from '../test/support/e2e-environment.ts';
import { IMAGE } from '../test/image/image.ts';

const NAMESPACE = 'default';

/** The run Job the operator would make for `name`, its pod's run spec swapped for a file sink and its own Secret. */
function bareJob(name: string, settings: Record<string, unknown>): V1Job {
  const mfa = {
    apiVersion: 'mfa-operator.io/v1alpha1',
    kind: 'ManagedAccountMfa',
    metadata: { name, namespace: NAMESPACE, uid: '00000000-0000-4000-8000-000000000000' },
    spec: { connector: 'demo', account: { credentialsSecretRef: { name } } },
  } as unknown as ManagedAccountMfa;
  const runner = { ...loadRunnerSettings(IMAGE), ...settings };
  const { job } = runObjects({
    mfa,
    run: { accountName: name, accountUid: mfa.metadata.uid!, action: 'enable', generation: 1, attempt: 1 },
    trigger: 'bench',
    settings: runner,
  });
  delete job.metadata!.ownerReferences;
  job.metadata!.name = name;
  const pod = job.spec!.template.spec!;
  pod.serviceAccountName = 'default';
  pod.automountServiceAccountToken = false;
  pod.containers[0]!.env!.push({ name: 'MFA_DEMO_ALLOWED_LOGIN_HOSTS', value: DEMO_APP_SERVICE_IP });
  for (const volume of pod.volumes!) if (volume.name === 'run') volume.secret!.secretName = name;
  return job;
}

/** Seconds from creating each Job to its Complete condition, one Job at a time. */
export async function runPodFloor(
  env: E2eEnvironment,
  settings: Record<string, unknown>,
  runs: number,
): Promise<number[]> {
  const core = env.cp.kubeConfig().makeApiClient(CoreV1Api);
  const batch = env.cp.kubeConfig().makeApiClient(BatchV1Api);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const name = `pod-floor-${i}`;
    const email = `${name}@demo.example`;
    await env.app.accounts.upsert({ email, password: `pw-${name}` });
    const spec = {
      contractVersion: RUN_CONTRACT_VERSION,
      connector: 'demo',
      loginUrl: `${env.app.url}/login`,
      caBundle: env.app.caPem,
      action: 'enable',
      credentials: {
        usernameFile: '/var/run/mfa-operator/credentials/username',
        passwordFile: '/var/run/mfa-operator/credentials/password',
      },
      sink: { type: 'file', dir: '/tmp/result' },
    } satisfies RunSpec;
    await core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: {
        metadata: { name },
        stringData: {
          username: email,
          password: `pw-${name}`,
          [RESULT_KEYS.runSpec]: JSON.stringify(spec),
        },
      },
    });
    const started = performance.now();
    await batch.createNamespacedJob({ namespace: NAMESPACE, body: bareJob(name, settings) });
    for (;;) {
      const { status } = await batch.readNamespacedJobStatus({ name, namespace: NAMESPACE });
      if (status?.conditions?.some((c) => c.type === 'Failed' && c.status === 'True'))
        throw new Error(`the bare run Job ${name} failed`);
      if (status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True')) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    samples.push((performance.now() - started) / 1000);
  }
  return samples;
}
