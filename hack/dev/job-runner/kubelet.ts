import { ApiException, PatchStrategy, setHeaderOptions, type CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { sleep } from '../../../operator/controller/runtime/backoff.ts';
import type { EventRecorder } from '../../../operator/controller/runtime/events.ts';
import type { Logger } from '../../../operator/logging/logger.ts';
import type { ObjectReader } from './container-env.ts';
import { describeError } from './errors.ts';
import { isTerminal, NODE_NAME, podStatus, terminated, type PodPhase, type ReportedContainer } from './pod-status.ts';
import { PodWorker, TOKEN_LIFETIME_SECONDS, type NodeContext } from './pod-worker.ts';
import type { VolumeSources } from './volumes.ts';

export interface KubeletOptions extends Omit<NodeContext, 'reportStatus' | 'volumeSources'> {
  core: CoreV1Api;
  caCertificate: string;
  maxParallel: number;
  events: EventRecorder;
  log: Logger;
}

const DEFAULT_GRACE_SECONDS = 30;
/** stop() does not wait a pod's full grace period: the runner is going away. */
const STOP_GRACE_SECONDS = 5;
/** Status updates that fail for a while (API server restarting) are retried from this delay, doubling up to the cap. */
const STATUS_RETRY_BASE_MS = 250;
const STATUS_RETRY_CAP_MS = 5_000;

function notFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

/** A status the API server refused for what it is (invalid, conflicting spec) will not be accepted on a retry. */
function rejected(err: unknown): boolean {
  return err instanceof ApiException && (err.code === 400 || err.code === 422);
}

function graceSeconds(pod: V1Pod): number {
  return pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
}

/** A pod this node reported as started, that no worker here runs: its process was lost (runner restart). */
function wasStartedBefore(pod: V1Pod): boolean {
  const state = pod.status?.containerStatuses?.[0]?.state;
  return pod.status?.phase === 'Running' || Boolean(state?.running ?? state?.terminated);
}

/** Pods from a list carry no kind; an Event's `regarding` needs it. */
function asPod(pod: V1Pod): V1Pod {
  return { ...pod, apiVersion: 'v1', kind: 'Pod' };
}

function decode(data: Record<string, string> | undefined): Record<string, Buffer> {
  return Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
}

/**
 * The node agent for pods bound to node "local": runs each pod in a PodWorker (at most maxParallel at once),
 * stops it when the pod is deleted and then confirms the deletion (grace period 0), as kubelet does.
 */
export class Kubelet {
  readonly #options: KubeletOptions;
  readonly #node: NodeContext;
  readonly #workers = new Map<string, PodWorker>();
  readonly #queued = new Map<string, V1Pod>();
  readonly #deleting = new Set<string>();
  readonly #logPaths = new Map<string, string>();
  /** Aborted by stop(): no new pods, no more status retries. */
  readonly #stopping = new AbortController();

  constructor(options: KubeletOptions) {
    this.#options = options;
    this.#node = {
      ...options,
      reportStatus: (pod, phase, container) => this.#reportStatus(pod, phase, container),
      volumeSources: (pod) => this.#volumeSources(pod),
    };
  }

  /** The file holding a pod's stdout and stderr (there is no `kubectl logs` without a real kubelet). */
  logPath(namespace: string, name: string): string | undefined {
    return this.#logPaths.get(`${namespace}/${name}`);
  }

  observe(pod: V1Pod): void {
    if (this.#stopping.signal.aborted || pod.spec?.nodeName !== NODE_NAME) return;
    const uid = pod.metadata!.uid!;
    const deleting = Boolean(pod.metadata?.deletionTimestamp);
    if (deleting) this.#deleting.add(uid);
    const worker = this.#workers.get(uid);
    if (worker) {
      if (deleting) this.#kill(worker, graceSeconds(pod));
      return;
    }
    if (isTerminal(pod)) {
      if (deleting) void this.#confirmDeletion(pod);
      return;
    }
    if (deleting || wasStartedBefore(pod)) {
      this.#queued.delete(uid);
      void this.#markLost(pod, deleting);
      return;
    }
    this.#queued.set(uid, pod);
    this.#startQueued();
  }

  /** The pod object is gone (force-deleted): stop its process at once. */
  forget(pod: V1Pod): void {
    const uid = pod.metadata!.uid!;
    this.#queued.delete(uid);
    const worker = this.#workers.get(uid);
    if (worker) this.#kill(worker, 0);
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    this.#queued.clear();
    const workers = [...this.#workers.values()];
    for (const worker of workers) worker.kill(Math.min(graceSeconds(worker.pod), STOP_GRACE_SECONDS), true);
    await Promise.allSettled(workers.map((w) => w.start()));
  }

  #kill(worker: PodWorker, grace: number): void {
    this.#options.events.record(asPod(worker.pod), 'Normal', 'Killing', 'Kill', `Stopping container ${worker.container.name}`);
    worker.kill(grace);
  }

  #startQueued(): void {
    for (const [uid, pod] of this.#queued) {
      if (this.#workers.size >= this.#options.maxParallel) return;
      this.#queued.delete(uid);
      const worker = new PodWorker(pod, this.#node);
      this.#workers.set(uid, worker);
      this.#logPaths.set(`${pod.metadata!.namespace}/${pod.metadata!.name}`, worker.logPath);
      void worker.start()
        .catch((err: unknown) => this.#options.log.error({ pod: pod.metadata!.name, err: describeError(err) }, 'pod worker failed'))
        .finally(() => void this.#afterWorker(uid, pod));
    }
  }

  async #afterWorker(uid: string, pod: V1Pod): Promise<void> {
    this.#workers.delete(uid);
    if (this.#deleting.has(uid) && !this.#stopping.signal.aborted) await this.#confirmDeletion(pod);
    this.#startQueued();
  }

  async #markLost(pod: V1Pod, deleted: boolean): Promise<void> {
    const message = deleted ? 'The pod was deleted before its container started' : 'The container could not be located when the pod was terminated';
    await this.#reportStatus(pod, 'Failed', terminated({ exitCode: 137, reason: 'ContainerStatusUnknown', message, finishedAt: new Date() }));
    if (deleted) await this.#confirmDeletion(pod);
  }

  /** kubelet's last word on a deleted pod: delete it with grace period 0 once its containers are stopped. */
  async #confirmDeletion(pod: V1Pod): Promise<void> {
    const { name, namespace, uid } = pod.metadata as { name: string; namespace: string; uid: string };
    this.#deleting.delete(uid);
    try {
      await this.#options.core.deleteNamespacedPod({ name, namespace, body: { gracePeriodSeconds: 0, preconditions: { uid } } });
    } catch (err: unknown) {
      if (!notFound(err) && !(err instanceof ApiException && err.code === 409)) {
        this.#options.log.warn({ pod: name, err: describeError(err) }, 'could not confirm pod deletion');
      }
    }
  }

  async #reportStatus(pod: V1Pod, phase: PodPhase, container: ReportedContainer): Promise<void> {
    const { name, namespace } = pod.metadata as { name: string; namespace: string };
    const status = podStatus(pod, phase, container);
    pod.status = { ...pod.status, startTime: status.startTime };
    await this.#patchStatusUntilAccepted(name, namespace, status);
    await this.#recordTransition(pod, phase, container);
  }

  /**
   * kubelet's status manager keeps a pod's latest status until the API server has it: an exit reported while the
   * server restarts must still reach the job controller, or the Job would only end at its deadline. Gives up when
   * the pod is gone, when the server rejects the status as invalid, or when this node stops.
   */
  async #patchStatusUntilAccepted(name: string, namespace: string, status: V1Pod['status']): Promise<void> {
    for (let delay = STATUS_RETRY_BASE_MS; ; delay = Math.min(delay * 2, STATUS_RETRY_CAP_MS)) {
      try {
        await this.#options.core.patchNamespacedPodStatus({ name, namespace, body: { status } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
        return;
      } catch (err: unknown) {
        if (notFound(err)) return;
        if (rejected(err) || this.#stopping.signal.aborted) throw err;
        this.#options.log.warn({ pod: `${namespace}/${name}`, phase: status?.phase, err: describeError(err), retryInMs: delay }, 'pod status not accepted; will retry');
        await sleep(delay, this.#stopping.signal);
      }
    }
  }

  async #recordTransition(pod: V1Pod, phase: PodPhase, container: ReportedContainer): Promise<void> {
    const name = pod.spec!.containers[0]!.name;
    const { waiting, terminated: ended } = container.report.state;
    const podKey = `${pod.metadata!.namespace}/${pod.metadata!.name}`;
    if (phase === 'Running') {
      this.#options.log.info({ pod: podKey, logPath: this.logPath(pod.metadata!.namespace!, pod.metadata!.name!) }, 'pod started');
      this.#options.events.record(asPod(pod), 'Normal', 'Started', 'Start', `Started container ${name}`);
    }
    if (ended) {
      const durationMs = ended.startedAt ? new Date(ended.finishedAt!).getTime() - new Date(ended.startedAt).getTime() : undefined;
      this.#options.log.info({ pod: podKey, phase, exitCode: ended.exitCode, reason: ended.reason, durationMs }, 'pod finished');
    }
    if (waiting?.message) this.#options.events.record(asPod(pod), 'Warning', waiting.reason === 'ContainerCreating' ? 'FailedMount' : 'Failed', 'Start', waiting.message);
  }

  async #volumeSources(pod: V1Pod): Promise<VolumeSources> {
    const { core, caCertificate } = this.#options;
    const namespace = pod.metadata!.namespace!;
    const reader: ObjectReader = {
      secretData: async (ns, name) => core.readNamespacedSecret({ name, namespace: ns })
        .then((s) => decode(s.data), (err: unknown) => (notFound(err) ? undefined : Promise.reject(err))),
      configMapData: async (ns, name) => core.readNamespacedConfigMap({ name, namespace: ns })
        .then((c) => ({ ...decode(c.binaryData), ...Object.fromEntries(Object.entries(c.data ?? {}).map(([k, v]) => [k, Buffer.from(v)])) }),
          (err: unknown) => (notFound(err) ? undefined : Promise.reject(err))),
    };
    const account = pod.spec?.serviceAccountName;
    // Without the ServiceAccount admission plugin (off on this control plane) a pod may name no account;
    // the API server binds no token to such a pod, so none is mounted.
    if (!account) return { reader, caCertificate };
    const projectedToken = async (audience: string | undefined, expirationSeconds: number | undefined) => {
      const request = await core.createNamespacedServiceAccountToken({
        name: account, namespace,
        body: { spec: {
          audiences: audience ? [audience] : [], expirationSeconds: expirationSeconds ?? TOKEN_LIFETIME_SECONDS,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name, uid: pod.metadata!.uid },
        } },
      });
      return request.status?.token ?? '';
    };
    if (!(await this.#automountToken(pod, account))) return { reader, caCertificate, projectedToken };
    return { reader, caCertificate, projectedToken, serviceAccountToken: () => projectedToken(undefined, undefined) };
  }

  /** The pod's automountServiceAccountToken, else its service account's, else true. */
  async #automountToken(pod: V1Pod, name: string): Promise<boolean> {
    if (pod.spec?.automountServiceAccountToken !== undefined) return pod.spec.automountServiceAccountToken;
    const account = await this.#options.core.readNamespacedServiceAccount({ name, namespace: pod.metadata!.namespace! }).catch((err: unknown) => {
      if (notFound(err)) return undefined;
      throw err;
    });
    return account?.automountServiceAccountToken ?? true;
  }
}
