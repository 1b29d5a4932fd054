import { MANAGED_BY, MANAGED_BY_LABEL } from '../api/v1alpha1/resources.ts';
import { CodeServiceError } from './code-errors.ts';
import type { LeaseRecords } from './lease-record.ts';
import type { RunGrant } from './run-callers.ts';

/**
 * Codes a run may get: a sign-in round tries at most 2 seeds in 2 windows, and turning MFA off (disable, rotate)
 * needs one more code; 6 leaves room for one app that asks twice, and bounds what a stolen run token is worth.
 */
export const RUN_CODE_BUDGET = 6;

/** Counts a run's codes; `spend` takes one or throws RunCodeBudgetExhausted (and never gives one back). */
export interface RunCodeBudget {
  spend(grant: RunGrant): Promise<void>;
}

/** How many codes the run has had, on its Lease. */
export const RUN_CODES_ANNOTATION = 'mfa-operator.io/run-codes-handed';

/**
 * One Lease per run Job in its namespace (`mfa-run-codes-<job uid>`), owned by the Job so that it goes with it, and
 * shared by every replica: a run gets RUN_CODE_BUDGET codes in total, whichever replicas answer it.
 */
export class LeaseRunCodeBudget implements RunCodeBudget {
  readonly #records: LeaseRecords;

  constructor(records: LeaseRecords) {
    this.#records = records;
  }

  async spend(grant: RunGrant): Promise<void> {
    await this.#records.update(
      {
        namespace: grant.namespace,
        name: `mfa-run-codes-${grant.jobUid}`,
        owner: { apiVersion: 'batch/v1', kind: 'Job', name: grant.job, uid: grant.jobUid },
        labels: {
          [MANAGED_BY_LABEL]: MANAGED_BY,
          'app.kubernetes.io/component': 'run-codes',
          'mfa-operator.io/account-uid': grant.accountUid,
        },
        annotation: RUN_CODES_ANNOTATION,
      },
      (value) => {
        // An unreadable count is taken as spent: a run is never given more than its budget.
        const spent = value === undefined ? 0 : /^\d+$/.test(value) ? Number(value) : RUN_CODE_BUDGET;
        if (spent >= RUN_CODE_BUDGET) throw exhausted(grant);
        return String(spent + 1);
      },
    );
  }
}

/** Most runs counted at once by ProcessRunCodeBudget; the least recently used goes first (a run lives minutes). */
const MAX_TRACKED_RUNS = 10_000;

/** The count in this process only: for a code service that is the only one serving runs (tests of one replica). */
export class ProcessRunCodeBudget implements RunCodeBudget {
  readonly #spent = new Map<string, number>();

  async spend(grant: RunGrant): Promise<void> {
    const spent = this.#spent.get(grant.jobUid) ?? 0;
    if (spent >= RUN_CODE_BUDGET) throw exhausted(grant);
    this.#spent.delete(grant.jobUid);
    this.#spent.set(grant.jobUid, spent + 1);
    if (this.#spent.size > MAX_TRACKED_RUNS) this.#spent.delete(this.#spent.keys().next().value as string);
  }
}

function exhausted(grant: RunGrant): CodeServiceError {
  return new CodeServiceError(
    'RunCodeBudgetExhausted',
    `Run ${grant.namespace}/${grant.job} has had its ${RUN_CODE_BUDGET} codes; a new attempt (a new Job) gets a new budget.`,
  );
}
