import { BatchV1Api, CoreV1Api, EventsV1Api, KubeConfig, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventRecorder } from '../../../operator/controller/runtime/events.ts';
import { ResilientInformer } from '../../../operator/controller/runtime/informer.ts';
import { WorkQueue } from '../../../operator/controller/runtime/workqueue.ts';
import { createLogger, type Logger } from '../../../operator/logging/logger.ts';
import { describeError, JobRunnerError } from './errors.ts';
import { JobController } from './job-controller.ts';
import { Kubelet } from './kubelet.ts';
import { detectSandboxMode, type SandboxMode } from './sandbox.ts';
import { createWorkDir } from './work-dir.ts';

export const DEFAULT_SELECTOR = 'app.kubernetes.io/managed-by=mfa-operator';
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface LocalJobRunnerOptions {
  /** A kubeconfig path or a loaded KubeConfig; its user needs to manage Jobs, Pods and tokens (admin). */
  kubeconfig: string | KubeConfig;
  /** Only Jobs in this namespace; default every namespace. */
  namespace?: string;
  /** Jobs to run, by label; default app.kubernetes.io/managed-by=mfa-operator. */
  selector?: string;
  /** The directory standing for the image's WORKDIR (/app); default the repository root. */
  imageRoot?: string;
  /** The image's WORKDIR that imageRoot stands for; default /app. */
  imageWorkdir?: string;
  /** Pods running at once; more wait in Pending. Default 4. */
  maxParallel?: number;
  /** Where the runner makes its temporary directory; default /var/tmp (outside /tmp, which pods often mount over). */
  workDirParent?: string;
  /** Where pod logs go; default inside the temporary directory (removed by stop()). */
  logDir?: string;
  /** Variables added to every container's environment (local only; a real node adds none of these). */
  env?: Record<string, string>;
  /** Every chunk a container writes, for tests (there is no `kubectl logs` without a real kubelet). */
  onContainerOutput?(pod: { namespace: string; name: string }, stream: 'stdout' | 'stderr', chunk: string): void;
  log?: Logger;
}

export interface LocalJobRunner {
  readonly mode: SandboxMode;
  readonly workDir: string;
  /** The file with a pod's stdout and stderr, once the pod was started here. */
  logPath(namespace: string, podName: string): string | undefined;
  /** Kills every pod's processes, stops watching and removes the temporary directory. */
  stop(): Promise<void>;
}

interface ApiEndpoint {
  host: string;
  port: string;
  caCertificate: string;
}

function apiEndpoint(kc: KubeConfig): ApiEndpoint {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new JobRunnerError('InvalidOptions', 'the kubeconfig has no current cluster');
  const url = new URL(cluster.server);
  const caCertificate = cluster.caData ? Buffer.from(cluster.caData, 'base64').toString('utf8') : cluster.caFile ? readFileSync(cluster.caFile, 'utf8') : '';
  if (!caCertificate) throw new JobRunnerError('InvalidOptions', 'the kubeconfig names no certificate authority for the API server; pods need it as ca.crt');
  return { host: url.hostname, port: url.port || '443', caCertificate };
}

function runtimeEnv(api: ApiEndpoint, extra: Record<string, string> = {}): Map<string, string> {
  return new Map(Object.entries({
    // The Node.js this tool runs on comes first, so a container's `node` is Node 24.
    PATH: `${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    KUBERNETES_SERVICE_HOST: api.host,
    KUBERNETES_SERVICE_PORT: api.port,
    KUBERNETES_SERVICE_PORT_HTTPS: api.port,
    KUBERNETES_PORT: `tcp://${api.host}:${api.port}`,
    ...extra,
  }));
}

function loadConfig(kubeconfig: string | KubeConfig): KubeConfig {
  if (kubeconfig instanceof KubeConfig) return kubeconfig;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return kc;
}

/**
 * Plays kubelet and the job controller for the operator's Jobs on a control plane that has only
 * kube-apiserver and etcd: each Job gets a Pod object, each Pod runs as a local process in its own mount,
 * pid and hostname namespaces, and both report status as the real components do.
 */
export async function startLocalJobRunner(options: LocalJobRunnerOptions): Promise<LocalJobRunner> {
  const log = options.log ?? createLogger('local-job-runner');
  const mode = detectSandboxMode();
  const kc = loadConfig(options.kubeconfig);
  const api = apiEndpoint(kc);
  const [core, batch, eventsApi] = [kc.makeApiClient(CoreV1Api), kc.makeApiClient(BatchV1Api), kc.makeApiClient(EventsV1Api)];
  const work = await createWorkDir(options.workDirParent ?? '/var/tmp');
  const workDir = work.path;
  const logDir = options.logDir ? resolve(options.logDir) : join(workDir, 'logs');
  await mkdir(logDir, { recursive: true }).catch(async (err: unknown) => {
    await work.release();
    throw new JobRunnerError('InvalidOptions', `cannot create the log directory ${logDir}: ${describeError(err)}`);
  });
  // As the kubelet and job controller record them: off their sync path, flushed on stop.
  const kubeletEvents = new EventRecorder({ api: eventsApi, controller: 'kubelet', instance: 'local', log });
  const jobEvents = new EventRecorder({ api: eventsApi, controller: 'job-controller', instance: 'local', log });
  const kubelet = new Kubelet({
    mode, core, log, caCertificate: api.caCertificate, maxParallel: options.maxParallel ?? 4,
    podsDir: join(workDir, 'pods'), logDir, imageRoot: resolve(options.imageRoot ?? REPO_ROOT), imageWorkdir: options.imageWorkdir ?? '/app',
    runtimeEnv: runtimeEnv(api, options.env), events: kubeletEvents,
    onOutput: options.onContainerOutput
      ? (pod, stream, chunk) => options.onContainerOutput!({ namespace: pod.metadata!.namespace!, name: pod.metadata!.name! }, stream, chunk)
      : undefined,
  });
  await mkdir(join(workDir, 'pods'), { recursive: true, mode: 0o700 });
  const jobs = new JobController({ batch, core, log, events: jobEvents, selector: options.selector ?? DEFAULT_SELECTOR });
  const queue = new WorkQueue({ baseBackoffMs: 200, maxBackoffMs: 10_000 });
  const workers = [syncJobs(queue, jobs, log), syncJobs(queue, jobs, log)];
  const informers = watch(kc, options, queue, kubelet, jobs, { core, batch }, log);
  try {
    await Promise.all(informers.map((i) => i.start()));
  } catch (err: unknown) {
    await Promise.all(informers.map((i) => i.stop()));
    queue.shutDown();
    await work.release();
    throw err;
  }
  log.info({ mode, workDir, logDir, namespace: options.namespace ?? '(all)' }, 'local job runner started');
  let stopped: Promise<void> | undefined;
  return {
    mode, workDir,
    logPath: (namespace, name) => kubelet.logPath(namespace, name),
    stop: () => (stopped ??= (async () => {
      queue.shutDown();
      await Promise.all(informers.map((i) => i.stop()));
      await kubelet.stop();
      await Promise.all(workers);
      await Promise.all([kubeletEvents.close(), jobEvents.close()]);
      await work.release();
    })()),
  };
}

async function syncJobs(queue: WorkQueue, jobs: JobController, log: Logger): Promise<void> {
  for (;;) {
    const key = await queue.get();
    if (key === undefined) return;
    try {
      const result = await jobs.sync(key);
      queue.forget(key);
      if (result.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
    } catch (err: unknown) {
      const delay = queue.addRateLimited(key);
      log.debug({ job: key, err: describeError(err), retryInMs: delay }, 'job sync failed; will retry');
    } finally {
      queue.done(key);
    }
  }
}

function watch(
  kc: KubeConfig, options: LocalJobRunnerOptions, queue: WorkQueue, kubelet: Kubelet, jobs: JobController,
  clients: { core: CoreV1Api; batch: BatchV1Api }, log: Logger,
): [ResilientInformer<V1Job>, ResilientInformer<V1Pod>] {
  const { namespace } = options;
  const selector = options.selector ?? DEFAULT_SELECTOR;
  const jobInformer = new ResilientInformer<V1Job>(kc, namespace ? `/apis/batch/v1/namespaces/${namespace}/jobs` : '/apis/batch/v1/jobs',
    () => (namespace ? clients.batch.listNamespacedJob({ namespace, labelSelector: selector }) : clients.batch.listJobForAllNamespaces({ labelSelector: selector })),
    log, selector);
  const enqueueJob = (job: V1Job) => queue.add(`${job.metadata!.namespace}/${job.metadata!.name}`);
  jobInformer.on({ onChange: enqueueJob, onDelete: enqueueJob });
  const podSelector = 'batch.kubernetes.io/controller-uid';
  const podInformer = new ResilientInformer<V1Pod>(kc, namespace ? `/api/v1/namespaces/${namespace}/pods` : '/api/v1/pods',
    () => (namespace ? clients.core.listNamespacedPod({ namespace, labelSelector: podSelector }) : clients.core.listPodForAllNamespaces({ labelSelector: podSelector })),
    log, podSelector);
  const enqueueOwner = (pod: V1Pod) => {
    const job = pod.metadata?.labels?.['batch.kubernetes.io/job-name'];
    if (job) queue.add(`${pod.metadata!.namespace}/${job}`);
  };
  podInformer.on({
    onChange: (pod) => {
      kubelet.observe(pod);
      enqueueOwner(pod);
    },
    onDelete: (pod) => {
      kubelet.forget(pod);
      enqueueOwner(pod);
    },
  });
  return [jobInformer, podInformer];
}
