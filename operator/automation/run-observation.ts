import type { V1Job, V1JobCondition, V1Pod } from '@kubernetes/client-node';
import { parseRunOutcome, type RunOutcome, type SuccessOutcome } from '../run-contract/outcome.ts';
import type { JobAction } from '../run-contract/run-spec.ts';
import { RUN_ANNOTATIONS, RUN_LABELS } from './run-names.ts';

export interface ObservedRun {
  job: V1Job;
  name: string;
  action: JobAction;
  generation: number;
  attempt: number;
  /** The rotation request a rotate run answers (its label digest). */
  request: string;
  finished: boolean;
  failedByController?: string;
  completionTime?: Date;
  harvested?: { outcome: string; reason: string; retryable: boolean; retryAfterSeconds?: number };
}

export function observeRun(job: V1Job): ObservedRun {
  const meta = job.metadata ?? {};
  const labels = meta.labels ?? {};
  const done = finishCondition(job);
  const run: ObservedRun = {
    job,
    name: meta.name!,
    action: labels[RUN_LABELS.action] as JobAction,
    generation: Number(labels[RUN_LABELS.generation] ?? 0),
    attempt: Number(labels[RUN_LABELS.attempt] ?? 1),
    request: labels[RUN_LABELS.request] ?? '',
    finished: Boolean(done),
  };
  if (done) Object.assign(run, finishDetails(job, done));
  const harvested = meta.annotations?.[RUN_ANNOTATIONS.harvested];
  if (harvested) run.harvested = JSON.parse(harvested) as ObservedRun['harvested'];
  return run;
}

function finishCondition(job: V1Job): V1JobCondition | undefined {
  return (job.status?.conditions ?? []).find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}

function finishDetails(job: V1Job, done: V1JobCondition): Pick<ObservedRun, 'completionTime' | 'failedByController'> {
  const completionTime = new Date(done.lastTransitionTime ?? job.status?.completionTime ?? Date.now());
  return done.type === 'Failed' && done.reason
    ? { completionTime, failedByController: done.reason }
    : { completionTime };
}

const PAST_DEADLINE = 'the run took longer than its deadline (activeDeadlineSeconds)';

/**
 * The run's outcome: the runner's termination message when it left one; otherwise what the Job controller
 * says (deadline exceeded, pod killed), which is always worth another attempt.
 */
export function outcomeOf(run: ObservedRun, pods: readonly V1Pod[]): RunOutcome {
  const message = pods
    .flatMap((p) => p.status?.containerStatuses ?? [])
    .map((s) => s.state?.terminated?.message)
    .find(Boolean);
  const parsed = message ? parseRunOutcome(message) : undefined;
  if (parsed?.reason === 'Terminated' && run.failedByController === 'DeadlineExceeded') {
    // The runner stopped on kubelet's SIGTERM; why it got one is the deadline.
    return { ...parsed, reason: 'Timeout', message: `Job ${run.name}: ${PAST_DEADLINE}. ${parsed.message}` };
  }
  if (parsed) return parsed;
  // Complete means the runner exited 0, which it does only on success; its pod (and message) can be gone.
  if (run.finished && !run.failedByController) return completedWithoutMessage(run);
  const why =
    run.failedByController === 'DeadlineExceeded'
      ? `${PAST_DEADLINE} and was stopped`
      : 'the runner ended without reporting an outcome (killed, evicted or out of memory)';
  return {
    outcome: 'Failed',
    reason: run.failedByController === 'DeadlineExceeded' ? 'Timeout' : 'RunnerCrashed',
    message: `Job ${run.name}: ${why}; the operator will retry.`,
    retryable: true,
  };
}

const SUCCESS_BY_ACTION = {
  enable: 'Enabled',
  rotate: 'Enabled',
  disable: 'Disabled',
  verify: 'Verified',
  adopt: 'Adopted',
  regenerate: 'RecoveryCodesRegenerated',
} as const satisfies Record<JobAction, SuccessOutcome>;

function completedWithoutMessage(run: ObservedRun): RunOutcome {
  const outcome = SUCCESS_BY_ACTION[run.action];
  return {
    outcome,
    reason: outcome,
    message: `Job ${run.name} completed; its pod and termination message are gone, so the details are not known.`,
    retryable: false,
  };
}
