// The local job runner's overhead per Job: milliseconds from creating a Job whose container runs
// `node -e ''` to the Pod reported Running, and to the Job's Complete condition, median of N Jobs
// run one after another on a fresh control plane (the figure includes Node's own start, ~50 ms):
//   node bench/job-runner.ts [jobs=10]
import { BatchV1Api, CoreV1Api, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { startLocalJobRunner } from '../hack/dev/job-runner/job-runner.ts';
import { createLogger } from '../operator/logging/logger.ts';
import { startControlPlane } from '../test/envtest/control-plane.ts';

const jobs = Number(process.argv[2] ?? '10');
if (!Number.isInteger(jobs) || jobs < 1) throw new Error('usage: node bench/job-runner.ts [jobs >= 1]');

const plane = await startControlPlane();
const runner = await startLocalJobRunner({ kubeconfig: plane.kubeconfigPath, namespace: 'bench', log: createLogger('bench', { level: 'warn' }) });
const core = plane.kubeConfig().makeApiClient(CoreV1Api);
const batch = plane.kubeConfig().makeApiClient(BatchV1Api);
await core.createNamespace({ body: { metadata: { name: 'bench' } } });
const labels = { 'app.kubernetes.io/managed-by': 'mfa-operator' };
const job = (name: string): V1Job => ({
  metadata: { name, labels },
  spec: { backoffLimit: 0, template: { metadata: { labels }, spec: {
    restartPolicy: 'Never', automountServiceAccountToken: false, containers: [{ name: 'c', image: 'unused', command: ['node', '-e', ''] }],
  } } },
});

function containerStarted(pod: V1Pod): boolean {
  const state = pod.status?.containerStatuses?.[0]?.state;
  return Boolean(state?.running ?? state?.terminated);
}

async function until<T>(check: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const toRunning: number[] = [];
const toComplete: number[] = [];
try {
  for (let i = 0; i < jobs; i++) {
    const name = `bench-${i}`;
    const created = performance.now();
    await batch.createNamespacedJob({ namespace: 'bench', body: job(name) });
    const started = await until(async () => {
      const pods = await core.listNamespacedPod({ namespace: 'bench', labelSelector: `batch.kubernetes.io/job-name=${name}` });
      return pods.items.some(containerStarted) ? performance.now() : undefined;
    });
    toRunning.push(started - created);
    await until(async () => {
      const current = await batch.readNamespacedJob({ name, namespace: 'bench' });
      return current.status?.conditions?.some((c) => c.type === 'Complete') ? true : undefined;
    });
    toComplete.push(performance.now() - created);
  }
} finally {
  await runner.stop();
  await plane.stop();
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};
console.log(JSON.stringify({
  benchmark: 'job-runner',
  jobs,
  sandbox: runner.mode,
  medianMsCreateToRunning: Math.round(median(toRunning)),
  medianMsCreateToComplete: Math.round(median(toComplete)),
  msCreateToComplete: toComplete.map(Math.round),
}, null, 2));
