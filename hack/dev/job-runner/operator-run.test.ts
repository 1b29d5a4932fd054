import { BatchV1Api, CoreV1Api, RbacAuthorizationV1Api, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDENTIALS_LABEL, CREDENTIALS_LABEL_VALUE } from '../../../operator/api/v1alpha1/resources.ts';
import type { ManagedAccountMfa } from '../../../operator/api/v1alpha1/types.generated.ts';
import { runObjects } from '../../../operator/automation/run-objects.ts';
import { DEFAULT_RUNNER_SETTINGS } from '../../../operator/automation/runner-settings.ts';
import { createLogger } from '../../../operator/logging/logger.ts';
import { startControlPlane, type ControlPlane } from '../../../test/envtest/control-plane.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { startLocalJobRunner, type LocalJobRunner } from './job-runner.ts';

const NS = 'accounts';
const quiet = () => createLogger('job-runner-test', { level: 'warn' });

let cp: ControlPlane;
let core: CoreV1Api;
let batch: BatchV1Api;
const runners: LocalJobRunner[] = [];
const output = new Map<string, string>();

async function startRunner(maxParallel = 4): Promise<LocalJobRunner> {
  const runner = await startLocalJobRunner({
    kubeconfig: cp.kubeconfigPath, namespace: NS, maxParallel, log: quiet(),
    onContainerOutput: (pod, _stream, chunk) => output.set(pod.name, (output.get(pod.name) ?? '') + chunk),
  });
  runners.push(runner);
  return runner;
}

function account(name: string): ManagedAccountMfa {
  return {
    apiVersion: 'mfa-operator.io/v1alpha1', kind: 'ManagedAccountMfa',
    metadata: { name, namespace: NS, uid: `00000000-0000-4000-8000-${name.length.toString().padStart(12, '0')}`, generation: 1 },
    spec: { connector: 'demo', account: { credentialsSecretRef: { name: `${name}-login` } }, mfa: { state: 'Enabled' } },
  } as ManagedAccountMfa;
}

/** Creates what the operator creates for one run, in its order, with `command` in place of the runner. */
async function createRun(name: string, command: string[]): Promise<V1Job> {
  const objects = runObjects({
    mfa: account(name), trigger: 'test', run: { accountName: name, accountUid: account(name).metadata!.uid!, action: 'enable', generation: 1, attempt: 1 },
    settings: { ...DEFAULT_RUNNER_SETTINGS, image: 'ghcr.io/example/mfa-operator-runner:dev', command },
  });
  const rbac = cp.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace: NS, body: objects.serviceAccount });
  await rbac.createNamespacedRole({ namespace: NS, body: objects.role });
  await rbac.createNamespacedRoleBinding({ namespace: NS, body: objects.roleBinding });
  await core.createNamespacedSecret({ namespace: NS, body: objects.resultSecret });
  return batch.createNamespacedJob({ namespace: NS, body: objects.job });
}

function processesWith(marker: string): number[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
    } catch {
      return false;
    }
  }).map(Number);
}

async function podOf(job: string): Promise<V1Pod | undefined> {
  return (await core.listNamespacedPod({ namespace: NS, labelSelector: `batch.kubernetes.io/job-name=${job}` })).items[0];
}

async function finishedCondition(job: string): Promise<string | undefined> {
  const current = await batch.readNamespacedJob({ name: job, namespace: NS });
  return current.status?.conditions?.find((c) => ['Complete', 'Failed'].includes(c.type) && c.status === 'True')?.type;
}

beforeAll(async () => {
  cp = await startControlPlane();
  core = cp.kubeConfig().makeApiClient(CoreV1Api);
  batch = cp.kubeConfig().makeApiClient(BatchV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
  for (const name of ['shared-admin', 'slow-a', 'slow-b']) {
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: `${name}-login`, labels: { [CREDENTIALS_LABEL]: CREDENTIALS_LABEL_VALUE } }, stringData: { username: 'ops@example.com', password: 'hunter2' } } });
  }
});

afterAll(async () => {
  for (const runner of runners) await runner.stop();
  await cp?.stop();
});

/** Plays the runner's part of the contract: reads the mounted run spec and credentials, writes its own result, reports. */
const RUNNER_STAND_IN = `
import fs from 'node:fs';
import { KubeConfig, CoreV1Api } from '@kubernetes/client-node';
const spec = JSON.parse(fs.readFileSync(process.argv[process.argv.indexOf('--run-spec') + 1], 'utf8'));
const username = fs.readFileSync(spec.credentials.usernameFile, 'utf8');
fs.writeFileSync(process.env.HOME + '/profile-check', 'ok');
const kc = new KubeConfig();
kc.loadFromCluster();
const core = kc.makeApiClient(CoreV1Api);
// As operator/runner/kubernetes-sink.ts: read the run's result Secret, write it back with the result.
const result = await core.readNamespacedSecret({ name: spec.sink.secretName, namespace: spec.sink.namespace });
result.data = { ...result.data, outcome: Buffer.from('done-by-' + username).toString('base64') };
await core.replaceNamespacedSecret({ name: spec.sink.secretName, namespace: spec.sink.namespace, body: result });
fs.writeFileSync(process.env.MFA_TERMINATION_MESSAGE_PATH, JSON.stringify({ outcome: 'Enabled', connector: spec.connector }));
`;

describe('local job runner with the operator\'s run objects', () => {
  it('runs the Job the operator builds: run spec and credentials mounted, result written through the run\'s own service account', async () => {
    const runner = await startRunner();
    const job = await createRun('shared-admin', ['node', '--input-type=module', '-e', RUNNER_STAND_IN, '--']);
    const name = job.metadata!.name!;

    await waitFor(`${name} to finish`, () => finishedCondition(name), 45_000);

    const pod = (await podOf(name))!;
    expect(await finishedCondition(name), output.get(pod.metadata!.name!)).toBe('Complete');
    expect(pod.status!.containerStatuses![0]!.state!.terminated!.message).toBe('{"outcome":"Enabled","connector":"demo"}');
    const result = await core.readNamespacedSecret({ name, namespace: NS });
    expect(Buffer.from(result.data!.outcome!, 'base64').toString()).toBe('done-by-ops@example.com');
    await runner.stop();
  });

  it('keeps pods beyond --max-parallel Pending; a restarted runner fails the pod it lost and runs the waiting one', async () => {
    const first = await startRunner(1);
    const marker = `${Date.now() % 100_000}.4545`;
    const slowA = (await createRun('slow-a', ['sh', '-c', `sleep ${marker} & wait`])).metadata!.name!;
    await waitFor('slow-a running', async () => (await podOf(slowA))?.status?.phase === 'Running', 30_000);
    await waitFor('its process', () => processesWith(marker).length > 0);
    const slowB = (await createRun('slow-b', ['sh', '-c', 'echo second ran; sleep 1'])).metadata!.name!;
    await waitFor('slow-b pod created', () => podOf(slowB));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await podOf(slowB))?.status?.phase ?? 'Pending').toBe('Pending');

    await first.stop();
    expect(processesWith(marker)).toEqual([]);
    expect(existsSync(first.workDir)).toBe(false);
    const lost = (await podOf(slowA))!;
    expect(lost.status?.phase).toBe('Running');
    await startRunner(1);

    await waitFor('slow-a failed', async () => (await finishedCondition(slowA)) === 'Failed', 30_000);
    expect((await podOf(slowA))!.status!.containerStatuses![0]!.state!.terminated).toMatchObject({ reason: 'ContainerStatusUnknown', exitCode: 137 });
    await waitFor('slow-b complete', async () => (await finishedCondition(slowB)) === 'Complete', 30_000);
    expect(output.get((await podOf(slowB))!.metadata!.name!)).toContain('second ran');
  });
});
