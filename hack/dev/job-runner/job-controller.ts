import { ApiException, PatchStrategy, setHeaderOptions, type BatchV1Api, type CoreV1Api, type V1Job, type V1JobStatus, type V1Pod } from '@kubernetes/client-node';
import type { EventRecorder } from '../../../operator/controller/runtime/events.ts';
import type { Logger } from '../../../operator/logging/logger.ts';
import { countedStatus, finishedStatus, isFinished, planJob, podForJob, sameStatus, TRACKING_FINALIZER } from './job-status.ts';
import { matchesSelector, parseSelector } from './label-selector.ts';
import { isTerminal, NODE_NAME } from './pod-status.ts';

export interface JobControllerOptions {
  batch: BatchV1Api;
  core: CoreV1Api;
  events: EventRecorder;
  log: Logger;
  selector: string;
}

export interface JobSyncResult {
  requeueAfterMs?: number;
}

const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const GC_FINALIZERS = ['foregroundDeletion', 'orphan'];

function notFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

function controllerUid(pod: V1Pod): string | undefined {
  return pod.metadata?.ownerReferences?.find((ref) => ref.controller && ref.kind === 'Job')?.uid;
}

function earliest(...delays: Array<number | undefined>): number | undefined {
  const defined = delays.filter((d): d is number => d !== undefined);
  return defined.length ? Math.max(0, Math.min(...defined)) : undefined;
}

/**
 * The parts of kube-controller-manager the operator's Jobs rely on: the job controller (pods, status,
 * conditions, activeDeadlineSeconds, backoffLimit), the TTL-after-finished controller, and the garbage
 * collector for a Job's pods. One sync reads the Job and its pods from the API server (not a cache).
 */
export class JobController {
  readonly #options: JobControllerOptions;
  readonly #selector: ReturnType<typeof parseSelector>;

  constructor(options: JobControllerOptions) {
    this.#options = options;
    this.#selector = parseSelector(options.selector);
  }

  selects(job: V1Job): boolean {
    return matchesSelector(this.#selector, job.metadata?.labels);
  }

  async sync(key: string): Promise<JobSyncResult> {
    const [namespace = '', name = ''] = key.split('/');
    const job = await this.#options.batch.readNamespacedJob({ name, namespace }).catch((err: unknown) => {
      if (notFound(err)) return undefined;
      throw err;
    });
    const list = await this.#options.core.listNamespacedPod({ namespace, labelSelector: `batch.kubernetes.io/job-name=${name}` });
    const pods = list.items.filter((p) => p.spec?.nodeName === NODE_NAME);
    const owned = job ? pods.filter((p) => controllerUid(p) === job.metadata!.uid) : [];
    await this.#collectOrphans(pods.filter((p) => !owned.includes(p)));
    if (!job || !this.selects(job)) return {};
    if (job.metadata?.deletionTimestamp) {
      await this.#collectDependents(job, owned);
      return {};
    }
    if (isFinished(job)) return this.#expireFinished(job, owned);
    if (job.spec?.suspend) return {};
    return this.#syncRunning(job, owned);
  }

  async #syncRunning(job: V1Job, pods: V1Pod[]): Promise<JobSyncResult> {
    const plan = planJob(job, pods);
    for (const pod of plan.podsToDelete) await this.#deletePod(job, pod);
    let current = await this.#writeStatus(job, plan.status);
    for (const pod of plan.podsToCount) await this.#removeTrackingFinalizer(pod);
    let status = countedStatus(current.status!);
    if (plan.finished) status = finishedStatus(status, plan.finished);
    current = await this.#writeStatus(current, status);
    if (plan.finished) await this.#recordFinished(current, plan.finished.type, plan.finished.reason!, plan.finished.message!);
    if (plan.createPodInMs === 0) await this.#createPod(current);
    return { requeueAfterMs: earliest(plan.requeueAfterMs, plan.createPodInMs || undefined) };
  }

  async #writeStatus(job: V1Job, status: V1JobStatus): Promise<V1Job> {
    if (sameStatus(status, job.status)) return job;
    const { name, namespace } = job.metadata as { name: string; namespace: string };
    return this.#options.batch.replaceNamespacedJobStatus({ name, namespace, body: { ...job, status } });
  }

  async #createPod(job: V1Job): Promise<void> {
    const pod = await this.#options.core.createNamespacedPod({ namespace: job.metadata!.namespace!, body: podForJob(job) });
    this.#options.events.record(job, 'Normal', 'SuccessfulCreate', 'Create', `Created pod: ${pod.metadata!.name}`);
  }

  async #deletePod(job: V1Job | undefined, pod: V1Pod): Promise<void> {
    if (pod.metadata?.deletionTimestamp) return;
    const { name, namespace, uid } = pod.metadata as { name: string; namespace: string; uid: string };
    try {
      await this.#options.core.deleteNamespacedPod({ name, namespace, body: { preconditions: { uid } } });
      if (job) this.#options.events.record(job, 'Normal', 'SuccessfulDelete', 'Delete', `Deleted pod: ${name}`);
    } catch (err: unknown) {
      if (!notFound(err)) throw err;
    }
  }

  async #removeTrackingFinalizer(pod: V1Pod): Promise<void> {
    const finalizers = pod.metadata?.finalizers ?? [];
    if (!finalizers.includes(TRACKING_FINALIZER)) return;
    const { name, namespace, resourceVersion } = pod.metadata as { name: string; namespace: string; resourceVersion: string };
    const body = { metadata: { resourceVersion, finalizers: finalizers.filter((f) => f !== TRACKING_FINALIZER) } };
    await this.#options.core.patchNamespacedPod({ name, namespace, body }, mergePatch()).catch((err: unknown) => {
      if (!notFound(err)) throw err;
    });
  }

  async #recordFinished(job: V1Job, type: string, reason: string, message: string): Promise<void> {
    if (type === 'Complete') this.#options.events.record(job, 'Normal', 'Completed', 'Complete', 'Job completed');
    else this.#options.events.record(job, 'Warning', reason, 'Fail', message);
  }

  /** Pods whose Job is gone or replaced: the garbage collector deletes them; the job controller lets them go. */
  async #collectOrphans(pods: V1Pod[]): Promise<void> {
    for (const pod of pods) {
      if (isTerminal(pod) || controllerUid(pod) === undefined) await this.#removeTrackingFinalizer(pod);
      if (controllerUid(pod) !== undefined) await this.#deletePod(undefined, pod);
    }
  }

  /**
   * A Job being deleted with foreground or orphan propagation waits for the garbage collector: delete (or
   * release) its pods, then drop the GC finalizer. Background deletions never get here.
   */
  async #collectDependents(job: V1Job, pods: V1Pod[]): Promise<void> {
    const orphan = job.metadata?.finalizers?.includes('orphan') ?? false;
    for (const pod of pods) {
      if (orphan) await this.#release(pod);
      else if (isTerminal(pod)) await this.#removeTrackingFinalizer(pod);
      else await this.#deletePod(job, pod);
    }
    if (!orphan && pods.length > 0) return;
    const finalizers = job.metadata?.finalizers ?? [];
    if (!finalizers.some((f) => GC_FINALIZERS.includes(f))) return;
    const { name, namespace, resourceVersion } = job.metadata as { name: string; namespace: string; resourceVersion: string };
    const body = { metadata: { resourceVersion, finalizers: finalizers.filter((f) => !GC_FINALIZERS.includes(f)) } };
    await this.#options.batch.patchNamespacedJob({ name, namespace, body }, mergePatch());
  }

  async #release(pod: V1Pod): Promise<void> {
    const { name, namespace, resourceVersion } = pod.metadata as { name: string; namespace: string; resourceVersion: string };
    const body = {
      metadata: {
        resourceVersion,
        ownerReferences: (pod.metadata?.ownerReferences ?? []).filter((ref) => ref.kind !== 'Job'),
        finalizers: (pod.metadata?.finalizers ?? []).filter((f) => f !== TRACKING_FINALIZER),
      },
    };
    await this.#options.core.patchNamespacedPod({ name, namespace, body }, mergePatch());
  }

  /** ttlSecondsAfterFinished: delete the finished Job (its pods follow) once the time is up. */
  async #expireFinished(job: V1Job, pods: V1Pod[]): Promise<JobSyncResult> {
    for (const pod of pods.filter(isTerminal)) await this.#removeTrackingFinalizer(pod);
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (ttl === undefined) return {};
    const finishedAt = job.status?.completionTime ?? job.status?.conditions?.find((c) => c.type === 'Failed')?.lastTransitionTime;
    const remaining = new Date(finishedAt ?? Date.now()).getTime() + ttl * 1000 - Date.now();
    if (remaining > 0) return { requeueAfterMs: remaining };
    const { name, namespace, uid } = job.metadata as { name: string; namespace: string; uid: string };
    await this.#options.batch.deleteNamespacedJob({ name, namespace, body: { propagationPolicy: 'Background', preconditions: { uid } } })
      .catch((err: unknown) => {
        if (!notFound(err)) throw err;
      });
    this.#options.log.info({ job: `${namespace}/${name}` }, 'deleted finished job (ttlSecondsAfterFinished)');
    return {};
  }
}
