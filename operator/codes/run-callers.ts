import { BatchV1Api, CoreV1Api, type KubeConfig, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { MANAGED_ACCOUNT_MFA, MANAGED_BY } from '../api/v1alpha1/resources.ts';
import { observeRun } from '../automation/run-observation.ts';
import { RUN_JOB_SELECTOR, RUN_LABELS } from '../automation/run-names.ts';
import { ResilientInformer } from '../controller/runtime/informer.ts';
import type { Logger } from '../../core/logging/logger.ts';
import type { Caller } from './caller-review.ts';
import { CodeServiceError } from './code-errors.ts';

/** A run the code service may serve: its Job, and the account that Job's account-uid label names. */
export interface RunGrant {
  readonly namespace: string;
  readonly job: string;
  readonly jobUid: string;
  readonly accountName: string;
  readonly accountUid: string;
  /** The Job's `mfa-operator.io/action` label (enable, disable, verify, rotate); absent on a Job without one. */
  readonly action?: string;
}

/** The run's Job, as a watch (or a test) sees it. */
export interface RunJobs {
  job(namespace: string, name: string): Promise<V1Job | undefined>;
  /** The pods of a Job (label batch.kubernetes.io/job-name), for tokens bound to a pod. */
  pods(namespace: string, job: string): Promise<readonly V1Pod[]>;
}

/** The TokenReview extra a pod-bound ServiceAccount token (a projected volume's) carries. */
export const POD_UID_EXTRA = 'authentication.kubernetes.io/pod-uid';

/**
 * Who may ask for a run's codes: only the run's own ServiceAccount (each run has one, named like its Job), while its
 * Job exists with the run labels, has not finished and has not been harvested. A token bound to a pod must be that
 * Job's pod's. The account comes from the Job's account-uid label and its owner reference, never from the request.
 */
export async function authorizeRun(jobs: RunJobs, caller: Caller, namespace: string, name: string): Promise<RunGrant> {
  const refuse = (why: string) =>
    new CodeServiceError('Forbidden', `Run codes for ${namespace}/${name} are refused: ${why}.`);
  if (caller.username !== `system:serviceaccount:${namespace}:${name}`) {
    throw refuse(`only the run's own ServiceAccount ${namespace}/${name} may ask, not "${caller.username}"`);
  }
  const job = await jobs.job(namespace, name);
  const why = job ? unservedBecause(job) : 'there is no run Job';
  if (why !== undefined) throw refuse(why);
  const accountUid = job!.metadata!.labels![RUN_LABELS.accountUid]!;
  const owner = job!.metadata!.ownerReferences!.find(
    (o) => o.kind === MANAGED_ACCOUNT_MFA.kind && o.uid === accountUid,
  )!;
  const podUid = caller.extra?.[POD_UID_EXTRA]?.[0];
  const jobUid = job!.metadata!.uid!;
  if (podUid !== undefined && !ownPod(await jobs.pods(namespace, name), podUid, jobUid)) {
    throw refuse("the token is bound to a pod that is not this Job's");
  }
  const action = job!.metadata!.labels![RUN_LABELS.action];
  return { namespace, job: name, jobUid, accountName: owner.name, accountUid, ...(action ? { action } : {}) };
}

/** Why a Job gets no codes: not a run Job, finished, harvested, or naming no account it belongs to. */
function unservedBecause(job: V1Job): string | undefined {
  const labels = job.metadata?.labels ?? {};
  if (labels[RUN_LABELS.managedBy] !== MANAGED_BY || labels[RUN_LABELS.component] !== 'automation-run')
    return 'there is no run Job';
  const run = observeRun(job);
  if (run.finished || run.harvested) return 'the run has finished';
  const accountUid = labels[RUN_LABELS.accountUid];
  const owned = job.metadata?.ownerReferences?.some((o) => o.kind === MANAGED_ACCOUNT_MFA.kind && o.uid === accountUid);
  return accountUid && owned ? undefined : 'the Job names no account it belongs to';
}

function ownPod(pods: readonly V1Pod[], podUid: string, jobUid: string): boolean {
  const pod = pods.find((p) => p.metadata?.uid === podUid);
  return Boolean(pod?.metadata?.ownerReferences?.some((o) => o.kind === 'Job' && o.controller && o.uid === jobUid));
}

/** How long a request made before the Job watch has listed waits for it. */
const WARM_WAIT_MS = 10_000;

/** The run Jobs from a watch (every replica serves runs, leader or not); pods are read only for pod-bound tokens. */
export class WatchedRunJobs implements RunJobs {
  readonly #jobs: ResilientInformer<V1Job>;
  readonly #core: CoreV1Api;
  readonly #log: Logger;

  constructor(kc: KubeConfig, log: Logger, namespace?: string) {
    const batch = kc.makeApiClient(BatchV1Api);
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#log = log;
    this.#jobs = new ResilientInformer<V1Job>(
      kc,
      namespace ? `/apis/batch/v1/namespaces/${namespace}/jobs` : '/apis/batch/v1/jobs',
      () =>
        namespace
          ? batch.listNamespacedJob({ namespace, labelSelector: RUN_JOB_SELECTOR })
          : batch.listJobForAllNamespaces({ labelSelector: RUN_JOB_SELECTOR }),
      log,
      RUN_JOB_SELECTOR,
      slimJob,
    );
  }

  start(): void {
    this.#jobs
      .start()
      .catch((e: unknown) =>
        this.#log.warn(
          { error: e instanceof Error ? e.message : String(e) },
          'code service Job watch did not start; retrying',
        ),
      );
  }

  synced(): Promise<void> {
    return this.#jobs.synced();
  }

  stop(): Promise<void> {
    return this.#jobs.stop();
  }

  async job(namespace: string, name: string): Promise<V1Job | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), WARM_WAIT_MS)));
    const outcome = await Promise.race([this.#jobs.synced(), late]);
    clearTimeout(timer);
    if (outcome === 'late')
      throw new CodeServiceError(
        'SecretStoreUnavailable',
        'The code service has not yet read the run Jobs; retry later.',
        5,
      );
    return this.#jobs.get(name, namespace);
  }

  async pods(namespace: string, job: string): Promise<readonly V1Pod[]> {
    try {
      return (await this.#core.listNamespacedPod({ namespace, labelSelector: `batch.kubernetes.io/job-name=${job}` }))
        .items;
    } catch {
      throw new CodeServiceError('ReviewUnavailable', "The API server could not list the run's pods; retry later.", 2);
    }
  }
}

/** The checks need labels, owner references, annotations and status conditions only. */
function slimJob(job: V1Job): void {
  delete job.metadata?.managedFields;
  if (job.spec) job.spec = { ...job.spec, template: { metadata: {} } };
}
