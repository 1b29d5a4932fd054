import { BatchV1Api, CoreV1Api, RbacAuthorizationV1Api, type V1Job, type V1JobCondition, type V1Pod } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../operator/logging/logger.ts';
import { startControlPlane, type ControlPlane } from '../../../test/envtest/control-plane.ts';
import { kubectlOk } from '../../../test/support/kubectl.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { startLocalJobRunner, type LocalJobRunner } from './job-runner.ts';
import { IMAGE_ROOT_IN_POD } from './mount-plan.ts';

const NS = 'runs';
const MANAGED = { 'app.kubernetes.io/managed-by': 'mfa-operator' };

let cp: ControlPlane;
let runner: LocalJobRunner;
let core: CoreV1Api;
let batch: BatchV1Api;
const output = new Map<string, string>();

/** Processes on this machine whose command line contains the marker (the container's whole tree is visible here). */
function processesWith(marker: string): number[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
    } catch {
      return false;
    }
  }).map(Number);
}

function job(name: string, container: Record<string, unknown>, spec: Partial<V1Job['spec']> = {}, volumes: unknown[] = []): V1Job {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: NS, labels: MANAGED },
    spec: {
      backoffLimit: 0, activeDeadlineSeconds: 120, ttlSecondsAfterFinished: 3600, ...spec,
      template: {
        metadata: { labels: MANAGED },
        spec: {
          restartPolicy: 'Never', serviceAccountName: 'run-sa', automountServiceAccountToken: true, terminationGracePeriodSeconds: 1,
          securityContext: { runAsNonRoot: true, runAsUser: 65532 },
          containers: [{ name: 'runner', image: 'mfa-operator-runner:dev', workingDir: '/app', terminationMessagePolicy: 'File', ...container }],
          volumes: volumes as never,
        },
      },
    },
  };
}

async function createJob(body: V1Job): Promise<V1Job> {
  return batch.createNamespacedJob({ namespace: NS, body });
}

async function jobConditions(name: string): Promise<V1JobCondition[]> {
  return (await batch.readNamespacedJob({ name, namespace: NS })).status?.conditions ?? [];
}

/** Waits for the Job to finish and checks it finished as expected, showing its pods' output when not. */
async function waitForFinished(name: string, type: 'Complete' | 'Failed', timeoutMs = 45_000): Promise<V1Job> {
  const finished = await waitFor(`job ${name} to finish`, async () => {
    const current = await batch.readNamespacedJob({ name, namespace: NS });
    return current.status?.conditions?.some((c) => ['Complete', 'Failed'].includes(c.type) && c.status === 'True') ? current : undefined;
  }, timeoutMs);
  const got = finished.status?.conditions?.find((c) => ['Complete', 'Failed'].includes(c.type))?.type;
  if (got !== type) {
    const logs = [...output].filter(([pod]) => pod.startsWith(`${name}-`)).map(([pod, text]) => `${pod}: ${text}`);
    throw new Error(`job ${name} is ${got}, not ${type}; output: ${logs.join('\n')}`);
  }
  return finished;
}

async function podsOf(jobName: string): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: NS, labelSelector: `batch.kubernetes.io/job-name=${jobName}` })).items;
}

beforeAll(async () => {
  cp = await startControlPlane();
  const kc = cp.kubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  batch = kc.makeApiClient(BatchV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
  await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'run-sa' } } });
  await rbac.createNamespacedRole({ namespace: NS, body: {
    metadata: { name: 'run-sa' }, rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['run-result'], verbs: ['get', 'patch'] }],
  } });
  await rbac.createNamespacedRoleBinding({ namespace: NS, body: {
    metadata: { name: 'run-sa' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'run-sa' },
    subjects: [{ kind: 'ServiceAccount', name: 'run-sa', namespace: NS }],
  } });
  const secrets: Record<string, Record<string, string>> = {
    'run-result': { outcome: 'pending' }, 'other-run': { seed: 'not-yours' }, credentials: { username: 'alice', password: 'pw' },
  };
  for (const [name, data] of Object.entries(secrets)) {
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name }, stringData: data } });
  }
  runner = await startLocalJobRunner({
    kubeconfig: cp.kubeconfigPath, namespace: NS, log: createLogger('job-runner-test', { level: 'warn' }),
    onContainerOutput: (pod, _stream, chunk) => output.set(pod.name, (output.get(pod.name) ?? '') + chunk),
  });
});

afterAll(async () => {
  await runner?.stop();
  await cp?.stop();
});

/** Runs in the pod as the runner would: reads its mounted files, then uses its service account. */
const CONTAINER_SCRIPT = `
import fs from 'node:fs';
import os from 'node:os';
import { KubeConfig, CoreV1Api } from '@kubernetes/client-node';
const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
const report = {
  argv: process.argv.slice(1), cwd: process.cwd(), node: process.version, pid: process.pid, hostname: os.hostname(),
  env: { POD_NAME: process.env.POD_NAME, POD_NAMESPACE: process.env.POD_NAMESPACE, GREETING: process.env.GREETING },
  username: fs.readFileSync('/var/run/mfa-operator/credentials/login/user', 'utf8'),
  usernameMode: (fs.statSync('/var/run/mfa-operator/credentials/login/user').mode & 0o777).toString(8),
  credentialFiles: fs.readdirSync('/var/run/mfa-operator/credentials').sort(),
  tmp: fs.readdirSync('/tmp'),
  serviceAccountFiles: fs.readdirSync(sa).sort(),
  serviceAccountNamespace: fs.readFileSync(sa + '/namespace', 'utf8'),
  runnerPods: fs.readdirSync(process.env.RUNNER_PODS_DIR),
  ownPodDir: fs.readdirSync(process.env.RUNNER_PODS_DIR + '/' + process.env.POD_UID),
};
try { fs.writeFileSync('/var/run/mfa-operator/credentials/x', 'x'); report.credentialsWritable = true; } catch (e) { report.credentialsWritable = e.code; }
const kc = new KubeConfig();
kc.loadFromCluster();
const core = kc.makeApiClient(CoreV1Api);
const own = await core.readNamespacedSecret({ name: 'run-result', namespace: report.serviceAccountNamespace });
report.ownResult = Buffer.from(own.data.outcome, 'base64').toString();
report.otherRun = await core.readNamespacedSecret({ name: 'other-run', namespace: report.serviceAccountNamespace }).then(() => 'read', (e) => e.code);
fs.writeFileSync(process.env.MFA_TERMINATION_MESSAGE_PATH, JSON.stringify({ outcome: 'Enabled' }));
console.log(JSON.stringify(report));
`;

describe('local job runner', () => {
  it('runs a Job like the job controller and kubelet: pod, mounted files, service account, Complete, termination message', async () => {
    const created = await createJob(job('enable-1', {
      command: ['node', '--input-type=module', '-e', CONTAINER_SCRIPT, '--', '$(POD_NAMESPACE)', '$$(POD_NAME)'],
      env: [
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
        { name: 'GREETING', value: 'hello $(POD_NAME)' },
        { name: 'RUNNER_PODS_DIR', value: `${runner.workDir}/pods` },
      ],
      volumeMounts: [
        { name: 'credentials', mountPath: '/var/run/mfa-operator/credentials', readOnly: true },
        { name: 'tmp', mountPath: '/tmp' },
      ],
    }, {}, [
      { name: 'credentials', secret: { secretName: 'credentials', defaultMode: 0o400, items: [{ key: 'username', path: 'login/user' }] } },
      { name: 'tmp', emptyDir: {} },
    ]));

    const finished = await waitForFinished('enable-1', 'Complete');
    expect(finished.status).toMatchObject({ succeeded: 1, ready: 0, terminating: 0 });
    expect(finished.status?.active ?? 0).toBe(0);
    expect(finished.status?.startTime).toBeDefined();
    expect(finished.status?.completionTime).toBeDefined();
    expect(finished.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['SuccessCriteriaMet', 'True', 'CompletionsReached'], ['Complete', 'True', 'CompletionsReached'],
    ]);

    const [pod] = await podsOf('enable-1');
    const uid = created.metadata!.uid!;
    expect(pod!.metadata!.name).toMatch(/^enable-1-[a-z0-9]{5}$/);
    expect(pod!.metadata!.labels).toMatchObject({
      ...MANAGED, 'batch.kubernetes.io/job-name': 'enable-1', 'job-name': 'enable-1', 'batch.kubernetes.io/controller-uid': uid, 'controller-uid': uid,
    });
    expect(pod!.metadata!.ownerReferences).toEqual([expect.objectContaining({ kind: 'Job', name: 'enable-1', uid, controller: true })]);
    expect(pod!.metadata!.finalizers ?? []).toEqual([]);
    expect(pod!.spec!.nodeName).toBe('local');
    expect(pod!.status!.phase).toBe('Succeeded');
    const terminated = pod!.status!.containerStatuses![0]!.state!.terminated!;
    expect(terminated).toMatchObject({ exitCode: 0, reason: 'Completed', message: '{"outcome":"Enabled"}' });
    expect(new Date(terminated.finishedAt!).getTime()).toBeGreaterThanOrEqual(new Date(terminated.startedAt!).getTime());

    const report = JSON.parse(output.get(pod!.metadata!.name!)!.trim().split('\n').pop()!);
    expect(report).toMatchObject({
      argv: [NS, '$(POD_NAME)'], cwd: IMAGE_ROOT_IN_POD, node: process.version, pid: 1, hostname: pod!.metadata!.name,
      env: { POD_NAME: pod!.metadata!.name, POD_NAMESPACE: NS, GREETING: `hello ${pod!.metadata!.name}` },
      username: 'alice', usernameMode: '400', credentialFiles: ['login'], tmp: [],
      serviceAccountFiles: ['ca.crt', 'namespace', 'token'], serviceAccountNamespace: NS,
      // Every pod's host directory is hidden; only this pod's termination message file is put back at its path.
      runnerPods: [pod!.metadata!.uid], ownPodDir: ['termination-log'],
      credentialsWritable: 'EROFS', ownResult: 'pending', otherRun: 403,
    });
    expect(readFileSync(runner.logPath(NS, pod!.metadata!.name!)!, 'utf8')).toContain('"ownResult":"pending"');
  });

  it('reports a failing container as Failed after FailureTarget, with the log tail as message (FallbackToLogsOnError)', async () => {
    await createJob(job('fails', {
      command: ['node', '-e', 'process.stderr.write("InvalidCredentials: check the login Secret"); process.exit(3)'],
      terminationMessagePolicy: 'FallbackToLogsOnError',
    }));

    const failed = await waitForFinished('fails', 'Failed');
    expect(failed.status?.conditions?.map((c) => [c.type, c.reason])).toEqual([
      ['FailureTarget', 'BackoffLimitExceeded'], ['Failed', 'BackoffLimitExceeded'],
    ]);
    expect(failed.status).toMatchObject({ failed: 1, terminating: 0 });
    expect(failed.status?.active ?? 0).toBe(0);
    expect(failed.status?.completionTime).toBeUndefined();
    const [pod] = await podsOf('fails');
    expect(pod!.status!.phase).toBe('Failed');
    expect(pod!.status!.containerStatuses![0]!.state!.terminated).toMatchObject({
      exitCode: 3, reason: 'Error', message: 'InvalidCredentials: check the login Secret',
    });
  });

  it('reports a container that exits while the API server is down once it is back, not at the Job\'s deadline', async () => {
    const marker = `${Date.now() % 100_000}.4343`;
    await createJob(job('exits-in-outage', {
      command: ['node', '-e', `process.on('SIGUSR1', () => { require('node:fs').writeFileSync(process.env.MFA_TERMINATION_MESSAGE_PATH, 'exited in the outage'); process.exit(3); }); setInterval(() => {}, 1000); // ${marker}`],
    }, { activeDeadlineSeconds: 90 }));
    await waitFor('the container running', () => processesWith(marker).length > 0, 30_000);

    await cp.restartApiServer(async () => {
      // The sandbox's wrappers carry the container's command line too; only the container itself (argv[0] node) is signalled.
      const container = processesWith(marker).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('node\0'));
      expect(container).toHaveLength(1);
      process.kill(container[0]!, 'SIGUSR1');
      await waitFor('the container gone', () => processesWith(marker).length === 0, 10_000);
    });

    const failed = await waitForFinished('exits-in-outage', 'Failed', 60_000);
    expect(failed.status?.conditions?.find((c) => c.type === 'Failed')?.reason).toBe('BackoffLimitExceeded');
    const [pod] = await podsOf('exits-in-outage');
    expect(pod!.status!.containerStatuses![0]!.state!.terminated).toMatchObject({ exitCode: 3, message: 'exited in the outage' });
  });

  it('fails a Job past activeDeadlineSeconds with DeadlineExceeded and kills its whole process tree', async () => {
    const marker = `${Date.now() % 100_000}.4242`;
    await createJob(job('too-slow', {
      // Ignores SIGTERM, so only SIGKILL after the grace period ends it; its child sleeps in the same pod.
      command: ['node', '-e', `require('node:child_process').spawn('sleep', ['${marker}'], { stdio: 'ignore', detached: true }); process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)`],
    }, { activeDeadlineSeconds: 4 }));
    await waitFor('the container and its child running', () => processesWith(marker).length > 0, 30_000);

    const failed = await waitForFinished('too-slow', 'Failed');
    expect(failed.status?.conditions?.map((c) => [c.type, c.reason, c.message])).toEqual([
      ['FailureTarget', 'DeadlineExceeded', 'Job was active longer than specified deadline'],
      ['Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline'],
    ]);
    expect(failed.status).toMatchObject({ failed: 1, terminating: 0 });
    expect(failed.status?.active ?? 0).toBe(0);
    expect(processesWith(marker)).toEqual([]);
    await waitFor('the deleted pod to be gone', async () => (await podsOf('too-slow')).length === 0);
  });

  it('kills the process and removes the pod when the Job is deleted', async () => {
    const marker = `${Date.now() % 100_000}.4343`;
    await createJob(job('deleted', { command: ['sh', '-c', `sleep ${marker} & wait`] }));
    await waitFor('the pod running', async () => (await podsOf('deleted'))[0]?.status?.phase === 'Running');
    await waitFor('its process', () => processesWith(marker).length > 0);

    await kubectlOk(cp.kubeconfigPath, ['delete', 'job', 'deleted', '-n', NS, '--wait=false']);

    await waitFor('the process killed', () => processesWith(marker).length === 0, 30_000);
    await waitFor('the pod gone', async () => (await podsOf('deleted')).length === 0, 30_000);
  });

  it('deletes a finished Job and its pod after ttlSecondsAfterFinished', async () => {
    await createJob(job('short-lived', { command: ['true'] }, { ttlSecondsAfterFinished: 2 }));
    await waitForFinished('short-lived', 'Complete');

    await waitFor('the Job deleted', async () => (await batch.listNamespacedJob({ namespace: NS, fieldSelector: 'metadata.name=short-lived' })).items.length === 0, 30_000);
    await waitFor('its pod deleted', async () => (await podsOf('short-lived')).length === 0, 30_000);
  });

  it('finishes a foreground deletion: kills the pod, then lets the Job go', async () => {
    const marker = `${Date.now() % 100_000}.4747`;
    await createJob(job('foreground', { command: ['sh', '-c', `sleep ${marker} & wait`] }));
    await waitFor('its process', () => processesWith(marker).length > 0, 30_000);

    await kubectlOk(cp.kubeconfigPath, ['delete', 'job', 'foreground', '-n', NS, '--cascade=foreground', '--wait=false']);

    await waitFor('the process killed', () => processesWith(marker).length === 0, 30_000);
    await waitFor('the Job gone', async () => (await batch.listNamespacedJob({ namespace: NS, fieldSelector: 'metadata.name=foreground' })).items.length === 0, 30_000);
    expect(await podsOf('foreground')).toEqual([]);
  });

  it('finishes an orphan deletion: the pod stays, without its owner', async () => {
    await createJob(job('orphaned', { command: ['true'] }));
    await waitForFinished('orphaned', 'Complete');

    await kubectlOk(cp.kubeconfigPath, ['delete', 'job', 'orphaned', '-n', NS, '--cascade=orphan', '--wait=false']);

    await waitFor('the Job gone', async () => (await batch.listNamespacedJob({ namespace: NS, fieldSelector: 'metadata.name=orphaned' })).items.length === 0, 30_000);
    const [pod] = await podsOf('orphaned');
    expect(pod?.metadata?.ownerReferences ?? []).toEqual([]);
    expect(pod?.metadata?.finalizers ?? []).toEqual([]);
  });

  it('run by hand (main.ts), takes its pods down with it even when SIGKILLed', async () => {
    await core.createNamespace({ body: { metadata: { name: 'by-hand' } } });
    const logDir = mkdtempSync(join(tmpdir(), 'job-runner-logs-'));
    const cli = spawn(process.execPath, [new URL('./main.ts', import.meta.url).pathname, '--kubeconfig', cp.kubeconfigPath, '--namespace', 'by-hand', '--log-dir', logDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let cliOutput = '';
    cli.stdout.on('data', (d: Buffer) => (cliOutput += d.toString()));
    cli.stderr.on('data', (d: Buffer) => (cliOutput += d.toString()));
    try {
      await waitFor('the runner to start', () => cliOutput.includes('local job runner started'));
      const marker = `${Date.now() % 100_000}.4646`;
      const body = job('by-hand', { command: ['sh', '-c', `echo started; sleep ${marker} & wait`] });
      body.metadata!.namespace = 'by-hand';
      body.spec!.template.spec!.automountServiceAccountToken = false;
      await batch.createNamespacedJob({ namespace: 'by-hand', body });
      await waitFor('its process', () => processesWith(marker).length > 0, 30_000);
      await waitFor('its log file', () => readdirSync(logDir).some((f) => readFileSync(join(logDir, f), 'utf8').includes('started')));

      cli.kill('SIGKILL');

      await waitFor('the pod\'s processes gone with the runner', () => processesWith(marker).length === 0, 10_000);
      const abandoned = readdirSync('/var/tmp').filter((d) => d.startsWith('mfa-job-runner-')).map((d) => `/var/tmp/${d}`)
        .filter((d) => existsSync(`${d}/runner.pid`) && readFileSync(`${d}/runner.pid`, 'utf8') === String(cli.pid));
      expect(abandoned).toHaveLength(1);
      const next = await startLocalJobRunner({ kubeconfig: cp.kubeconfigPath, namespace: 'by-hand', log: createLogger('job-runner-test', { level: 'warn' }) });
      await next.stop();
      expect(existsSync(abandoned[0]!)).toBe(false);
    } finally {
      cli.kill('SIGKILL');
      rmSync(logDir, { recursive: true, force: true });
    }
  });

  it('leaves Jobs without the selector\'s label alone', async () => {
    const unlabelled = job('not-ours', { command: ['true'] });
    unlabelled.metadata!.labels = { app: 'someone-else' };
    unlabelled.spec!.template.metadata!.labels = { app: 'someone-else' };
    await createJob(unlabelled);
    await waitForFinished('enable-1', 'Complete');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await podsOf('not-ours')).toEqual([]);
    expect(await jobConditions('not-ours')).toEqual([]);
  });
});
