import type { V1Job, V1JobCondition, V1JobStatus, V1Pod } from '@kubernetes/client-node';
import { isReady, isTerminal, NODE_NAME } from './pod-status.ts';

/** The job controller's pod finalizer: a finished pod that still has it is not yet counted in the Job's status. */
export const TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
const DEFAULT_BACKOFF_LIMIT = 6;
const POD_BACKOFF_BASE_MS = 10_000;
const POD_BACKOFF_MAX_MS = 360_000;

/** What the job controller decided for one Job: the status to write first, then what to do. */
export interface JobPlan {
  /** Counters, startTime and the interim condition (SuccessCriteriaMet / FailureTarget). */
  status: V1JobStatus;
  /** Active pods to delete because the Job is finishing. */
  podsToDelete: V1Pod[];
  /** Finished pods listed in `status.uncountedTerminatedPods`, whose tracking finalizer comes off after it is written. */
  podsToCount: V1Pod[];
  /** Create the Job's next pod now (0) or after this many ms; undefined when no pod is wanted. */
  createPodInMs?: number;
  /** The terminal condition (Complete / Failed), written once nothing runs or terminates any more. */
  finished?: V1JobCondition;
  /** Sync again then (activeDeadlineSeconds). */
  requeueAfterMs?: number;
}

export function hasCondition(job: V1Job, type: string): boolean {
  return job.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
}

export function isFinished(job: V1Job): boolean {
  return hasCondition(job, 'Complete') || hasCondition(job, 'Failed');
}

export function newCondition(type: string, reason: string, message: string, now: Date): V1JobCondition {
  return { type, status: 'True', reason, message, lastProbeTime: now, lastTransitionTime: now };
}

function hasTrackingFinalizer(pod: V1Pod): boolean {
  return pod.metadata?.finalizers?.includes(TRACKING_FINALIZER) ?? false;
}

/** A pod like the one the job controller creates: the template, the Job's labels, owner and finalizer. */
export function podForJob(job: V1Job): V1Pod {
  const { name, namespace, uid } = job.metadata as { name: string; namespace: string; uid: string };
  const template = job.spec!.template;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      generateName: `${name}-`, namespace,
      labels: {
        ...template.metadata?.labels,
        'batch.kubernetes.io/job-name': name, 'job-name': name, 'batch.kubernetes.io/controller-uid': uid, 'controller-uid': uid,
      },
      ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
      finalizers: [TRACKING_FINALIZER],
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: { ...template.spec!, nodeName: NODE_NAME },
  };
}

interface PodCounts {
  active: V1Pod[];
  terminating: number;
  /** Finished pods still holding the tracking finalizer. */
  unfinalized: V1Pod[];
  uncounted: { succeeded: string[]; failed: string[] };
  /** Counts including pods not yet moved into the counters. */
  succeeded: number;
  failed: number;
  lastFailureAt?: Date;
}

function uncountedPods(job: V1Job, unfinalized: readonly V1Pod[]): { succeeded: string[]; failed: string[] } {
  const listed = job.status?.uncountedTerminatedPods;
  const uncounted = { succeeded: [...(listed?.succeeded ?? [])], failed: [...(listed?.failed ?? [])] };
  for (const pod of unfinalized) {
    const uids = pod.status?.phase === 'Succeeded' ? uncounted.succeeded : uncounted.failed;
    if (!uids.includes(pod.metadata!.uid!)) uids.push(pod.metadata!.uid!);
  }
  return uncounted;
}

function lastFailure(pods: readonly V1Pod[]): Date | undefined {
  const finishTimes = pods.filter((p) => p.status?.phase === 'Failed')
    .map((p) => p.status?.containerStatuses?.[0]?.state?.terminated?.finishedAt).filter((t): t is Date => t !== undefined);
  return finishTimes.sort((a, b) => +new Date(b) - +new Date(a))[0];
}

function countPods(job: V1Job, pods: readonly V1Pod[]): PodCounts {
  const unfinalized = pods.filter((p) => isTerminal(p) && hasTrackingFinalizer(p));
  const uncounted = uncountedPods(job, unfinalized);
  return {
    active: pods.filter((p) => !isTerminal(p) && !p.metadata?.deletionTimestamp),
    terminating: pods.filter((p) => !isTerminal(p) && p.metadata?.deletionTimestamp).length,
    unfinalized, uncounted,
    succeeded: (job.status?.succeeded ?? 0) + uncounted.succeeded.length,
    failed: (job.status?.failed ?? 0) + uncounted.failed.length,
    lastFailureAt: lastFailure(pods),
  };
}

/** The interim condition the job controller records before its terminal one, or none while the Job runs on. */
function pastDeadline(job: V1Job, startTime: Date, now: Date): boolean {
  const deadline = job.spec?.activeDeadlineSeconds;
  return deadline !== undefined && now.getTime() - new Date(startTime).getTime() >= deadline * 1000;
}

function interimCondition(job: V1Job, counts: PodCounts, startTime: Date, now: Date): V1JobCondition | undefined {
  const existing = job.status?.conditions?.find((c) => (c.type === 'SuccessCriteriaMet' || c.type === 'FailureTarget') && c.status === 'True');
  if (existing) return existing;
  if (counts.failed > (job.spec?.backoffLimit ?? DEFAULT_BACKOFF_LIMIT)) {
    return newCondition('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', now);
  }
  if (pastDeadline(job, startTime, now)) {
    return newCondition('FailureTarget', 'DeadlineExceeded', 'Job was active longer than specified deadline', now);
  }
  if (counts.succeeded >= (job.spec?.completions ?? 1) && counts.active.length === 0) {
    return newCondition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
  }
  return undefined;
}

function nextPodDelay(job: V1Job, counts: PodCounts, now: Date): number | undefined {
  if (counts.active.length + counts.terminating > 0 || counts.succeeded >= (job.spec?.completions ?? 1)) return undefined;
  if (counts.failed === 0 || !counts.lastFailureAt) return 0;
  const backoff = Math.min(POD_BACKOFF_BASE_MS * 2 ** (counts.failed - 1), POD_BACKOFF_MAX_MS);
  return Math.max(0, new Date(counts.lastFailureAt).getTime() + backoff - now.getTime());
}

/**
 * One sync of the job controller (pkg/controller/job, Kubernetes 1.31+) for a single-pod Job, from the Job and
 * its pods: counts finished pods once (by their tracking finalizer), records SuccessCriteriaMet or
 * FailureTarget first and Complete or Failed only once no pod runs or terminates, as the API server requires.
 */
export function planJob(job: V1Job, pods: readonly V1Pod[], now = wholeSecondsNow()): JobPlan {
  const counts = countPods(job, pods);
  const startTime = job.status?.startTime ?? now;
  const interim = interimCondition(job, counts, startTime, now);
  if (!interim) return runningPlan(job, counts, startTime, now);
  const conditions = [...(job.status?.conditions ?? [])];
  if (!conditions.some((c) => c.type === interim.type)) conditions.push(interim);
  // A finishing Job deletes the pods still running; it finishes once they have terminated.
  const terminating = counts.terminating + counts.active.length;
  const finishedType = interim.type === 'SuccessCriteriaMet' ? 'Complete' : 'Failed';
  return {
    status: { ...statusWith(job, counts, startTime, []), conditions, terminating },
    podsToDelete: counts.active, podsToCount: counts.unfinalized,
    finished: terminating === 0 ? newCondition(finishedType, interim.reason ?? '', interim.message ?? '', now) : undefined,
  };
}

function runningPlan(job: V1Job, counts: PodCounts, startTime: Date, now: Date): JobPlan {
  const deadline = job.spec?.activeDeadlineSeconds;
  return {
    status: statusWith(job, counts, startTime, counts.active),
    podsToDelete: [], podsToCount: counts.unfinalized,
    createPodInMs: nextPodDelay(job, counts, now),
    requeueAfterMs: deadline === undefined ? undefined : new Date(startTime).getTime() + deadline * 1000 - now.getTime(),
  };
}

function statusWith(job: V1Job, counts: PodCounts, startTime: Date, active: readonly V1Pod[]): V1JobStatus {
  return {
    ...job.status, startTime, active: active.length, ready: active.filter(isReady).length, terminating: counts.terminating,
    succeeded: job.status?.succeeded ?? 0, failed: job.status?.failed ?? 0, uncountedTerminatedPods: counts.uncounted,
  };
}

/** The status once the counted pods' finalizers are off: uncounted pods move into the counters. */
export function countedStatus(status: V1JobStatus): V1JobStatus {
  const uncounted = status.uncountedTerminatedPods;
  return {
    ...status,
    succeeded: (status.succeeded ?? 0) + (uncounted?.succeeded?.length ?? 0),
    failed: (status.failed ?? 0) + (uncounted?.failed?.length ?? 0),
    uncountedTerminatedPods: {},
  };
}

/** The status with the terminal condition added, and completionTime for a Complete Job (not for a Failed one). */
export function finishedStatus(status: V1JobStatus, finished: V1JobCondition): V1JobStatus {
  return {
    ...status, active: 0, ready: 0, terminating: 0,
    conditions: [...(status.conditions ?? []), finished],
    ...(finished.type === 'Complete' ? { completionTime: finished.lastTransitionTime } : {}),
  };
}

/** The API server drops zero counters and empty lists and keeps whole seconds: compare statuses the same way. */
export function sameStatus(a: V1JobStatus | undefined, b: V1JobStatus | undefined): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value: unknown): unknown {
  if (value instanceof Date || (typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value))) {
    return Math.floor(new Date(value as string | Date).getTime() / 1000);
  }
  if (Array.isArray(value)) return value.length ? value.map(canonical) : undefined;
  if (value === null || value === 0 || typeof value !== 'object') return value ?? undefined;
  const entries = Object.entries(value).map(([k, v]) => [k, canonical(v)] as const)
    .filter(([, v]) => v !== undefined && v !== 0 && !(typeof v === 'object' && v !== null && Object.keys(v).length === 0))
    .sort(([x], [y]) => x.localeCompare(y));
  return entries.length ? Object.fromEntries(entries) : undefined;
}

/** Now, in whole seconds as the API server stores times, so a written time compares equal once read back. */
export function wholeSecondsNow(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}
