import type { Caller } from './caller-review.ts';
import { CodeServiceError } from './code-errors.ts';
import type { CodeIssuer, IssuedCode } from './code-issuer.ts';
import { RUN_SLOTS, type RunCodeRequest, type RunSlot } from './code-request.ts';
import { authorizeRun, type RunGrant, type RunJobs } from './run-callers.ts';
import type { RunSeedSource } from './watched-seeds.ts';

/**
 * Codes a run may get: a sign-in round tries at most 2 seeds in 2 windows, and turning MFA off (disable, rotate)
 * needs one more code; 6 leaves room for one app that asks twice, and bounds what a stolen run token is worth.
 */
export const RUN_CODE_BUDGET = 6;

/** Most runs whose budget is tracked at once; the least recently used goes first (a run lives minutes). */
const MAX_TRACKED_RUNS = 10_000;

/**
 * The run endpoint: a run Job signs in with the store's seeds without ever holding one. It asks for one login code at
 * a time from a slot (never a window another automated login got), within RUN_CODE_BUDGET, or for which slots
 * hold a seed (no code). The budget is kept per replica, so a run spread over several replicas may get more.
 */
export class RunCodes {
  readonly #jobs: RunJobs;
  readonly #seeds: RunSeedSource;
  readonly #issuer: CodeIssuer;
  readonly #spent = new Map<string, number>();

  constructor(jobs: RunJobs, seeds: RunSeedSource, issuer: CodeIssuer) {
    this.#jobs = jobs;
    this.#seeds = seeds;
    this.#issuer = issuer;
  }

  authorize(caller: Caller, request: RunCodeRequest): Promise<RunGrant> {
    return authorizeRun(this.#jobs, caller, request.namespace, request.job);
  }

  /** The slots that hold a seed, pending first (the order a run tries them in). */
  async slots(grant: RunGrant): Promise<RunSlot[]> {
    const held: RunSlot[] = [];
    for (const slot of RUN_SLOTS) if (await this.#seeds.readRunSeed(accountOf(grant), slot)) held.push(slot);
    return held;
  }

  async issue(grant: RunGrant, slot: RunSlot): Promise<IssuedCode> {
    this.#spend(grant);
    const seed = await this.#seeds.readRunSeed(accountOf(grant), slot);
    if (!seed) {
      throw new CodeServiceError(slot === 'pending' ? 'NoPendingSeed' : 'NoActiveSeed',
        `The store holds no ${slot} seed for ${grant.namespace}/${grant.accountName}.`);
    }
    return this.#issuer.issue(seed, 'login');
  }

  #spend(grant: RunGrant): void {
    const spent = this.#spent.get(grant.jobUid) ?? 0;
    if (spent >= RUN_CODE_BUDGET) {
      throw new CodeServiceError('RunCodeBudgetExhausted',
        `Run ${grant.namespace}/${grant.job} has had its ${RUN_CODE_BUDGET} codes; a new attempt (a new Job) gets a new budget.`);
    }
    this.#spent.delete(grant.jobUid);
    this.#spent.set(grant.jobUid, spent + 1);
    if (this.#spent.size > MAX_TRACKED_RUNS) this.#spent.delete(this.#spent.keys().next().value as string);
  }
}

function accountOf(grant: RunGrant) {
  return { namespace: grant.namespace, name: grant.accountName, uid: grant.accountUid };
}
