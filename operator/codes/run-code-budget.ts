import { MANAGED_BY, MANAGED_BY_LABEL } from '../api/v1alpha1/resources.ts';
import { CodeServiceError } from './code-errors.ts';
import type { LeaseRecords } from './lease-record.ts';
import type { RunGrant } from './run-callers.ts';

/**
 * Codes a run may get: a sign-in round tries at most 2 seeds in 2 windows, and turning MFA off (disable, rotate)
 * needs one more code; 6 leaves room for one app that asks twice, and bounds what a stolen run token is worth.
 */
export const RUN_CODE_BUDGET = 6;

/**
 * Recovery codes a run may get, only once its stored seeds were refused: one signs in, one answers a re-authentication
 * the app asks for before MFA is turned off (Keycloak's maximum age of authentication). Each is used up for good.
 */
export const RUN_RECOVERY_CODE_BUDGET = 2;

/** Counts a run's codes; `spend` takes one or throws RunCodeBudgetExhausted (and never gives one back). */
export interface RunCodeBudget {
  spend(grant: RunGrant): Promise<void>;
}

/** How many codes the run has had, on its Lease. */
export const RUN_CODES_ANNOTATION = 'mfa-operator.io/run-codes-handed';
/** How many recovery codes the run has had, on its own Lease. */
export const RUN_RECOVERY_CODES_ANNOTATION = 'mfa-operator.io/run-recovery-codes-handed';

/** One kind of count: sign-in codes, or recovery codes. */
export interface RunBudgetKind {
  readonly limit: number;
  /** The Lease's name before the Job's uid. */
  readonly leasePrefix: string;
  readonly annotation: string;
  readonly component: string;
  /** What is counted, for the refusal. */
  readonly what: string;
}

export const RUN_CODES: RunBudgetKind = {
  limit: RUN_CODE_BUDGET,
  leasePrefix: 'mfa-run-codes-',
  annotation: RUN_CODES_ANNOTATION,
  component: 'run-codes',
  what: 'codes',
};

export const RUN_RECOVERY_CODES: RunBudgetKind = {
  limit: RUN_RECOVERY_CODE_BUDGET,
  leasePrefix: 'mfa-run-recovery-codes-',
  annotation: RUN_RECOVERY_CODES_ANNOTATION,
  component: 'run-recovery-codes',
  what: 'recovery codes',
};

/**
 * One Lease per run Job and kind in its namespace (`mfa-run-codes-<job uid>`, `mfa-run-recovery-codes-<job uid>`),
 * owned by the Job so that it goes with it, and shared by every replica: a run gets `kind.limit` in total, whichever
 * replicas answer it.
 */
export class LeaseRunCodeBudget implements RunCodeBudget {
  readonly #records: LeaseRecords;
  readonly #kind: RunBudgetKind;

  constructor(records: LeaseRecords, kind: RunBudgetKind = RUN_CODES) {
    this.#records = records;
    this.#kind = kind;
  }

  async spend(grant: RunGrant): Promise<void> {
    const kind = this.#kind;
    await this.#records.update(
      {
        namespace: grant.namespace,
        name: `${kind.leasePrefix}${grant.jobUid}`,
        owner: { apiVersion: 'batch/v1', kind: 'Job', name: grant.job, uid: grant.jobUid },
        labels: {
          [MANAGED_BY_LABEL]: MANAGED_BY,
          'app.kubernetes.io/component': kind.component,
          'mfa-operator.io/account-uid': grant.accountUid,
        },
        annotation: kind.annotation,
      },
      (value) => {
        // An unreadable count is taken as spent: a run is never given more than its budget.
        const spent = value === undefined ? 0 : /^\d+$/.test(value) ? Number(value) : kind.limit;
        if (spent >= kind.limit) throw exhausted(grant, kind);
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
  readonly #kind: RunBudgetKind;

  constructor(kind: RunBudgetKind = RUN_CODES) {
    this.#kind = kind;
  }

  async spend(grant: RunGrant): Promise<void> {
    const spent = this.#spent.get(grant.jobUid) ?? 0;
    if (spent >= this.#kind.limit) throw exhausted(grant, this.#kind);
    this.#spent.delete(grant.jobUid);
    this.#spent.set(grant.jobUid, spent + 1);
    if (this.#spent.size > MAX_TRACKED_RUNS) this.#spent.delete(this.#spent.keys().next().value as string);
  }
}

function exhausted(grant: RunGrant, kind: RunBudgetKind): CodeServiceError {
  return new CodeServiceError(
    'RunCodeBudgetExhausted',
    `Run ${grant.namespace}/${grant.job} has had its ${kind.limit} ${kind.what}; a new attempt (a new Job) gets a new budget.`,
  );
}
