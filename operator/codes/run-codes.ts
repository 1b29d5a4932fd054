import type { Caller } from './caller-review.ts';
import { CodeServiceError } from './code-errors.ts';
import type { CodeIssuer, IssuedCode } from './code-issuer.ts';
import type { RunCodeRequest } from './code-request.ts';
import { authorizeRun, type RunGrant, type RunJobs } from './run-callers.ts';
import { ProcessRunCodeBudget, type RunCodeBudget } from './run-code-budget.ts';
import type { RunSeedSource } from './watched-seeds.ts';
import { SEED_SLOTS, type SeedSlot } from '../stores/seed-slots.ts';

/**
 * The run endpoint: a run Job signs in with the store's seeds without ever holding one. It asks for one login code at
 * a time from a slot (never a window another automated login got), within RUN_CODE_BUDGET, or for which slots
 * hold a seed (no code). The budget is counted by `budget`: a Lease per run shared by every replica in the operator.
 */
export class RunCodes {
  readonly #jobs: RunJobs;
  readonly #seeds: RunSeedSource;
  readonly #issuer: CodeIssuer;
  readonly #budget: RunCodeBudget;

  constructor(
    jobs: RunJobs,
    seeds: RunSeedSource,
    issuer: CodeIssuer,
    budget: RunCodeBudget = new ProcessRunCodeBudget(),
  ) {
    this.#jobs = jobs;
    this.#seeds = seeds;
    this.#issuer = issuer;
    this.#budget = budget;
  }

  authorize(caller: Caller, request: RunCodeRequest): Promise<RunGrant> {
    return authorizeRun(this.#jobs, caller, request.namespace, request.job);
  }

  /** The slots that hold a seed, pending first (the order a run tries them in). */
  async slots(grant: RunGrant): Promise<SeedSlot[]> {
    const held: SeedSlot[] = [];
    for (const slot of SEED_SLOTS) if (await this.#seeds.readRunSeed(accountOf(grant), slot)) held.push(slot);
    return held;
  }

  async issue(grant: RunGrant, slot: SeedSlot): Promise<IssuedCode> {
    await this.#budget.spend(grant);
    const seed = await this.#seeds.readRunSeed(accountOf(grant), slot);
    if (!seed) {
      throw new CodeServiceError(
        slot === 'pending' ? 'NoPendingSeed' : 'NoActiveSeed',
        `The store holds no ${slot} seed for ${grant.namespace}/${grant.accountName}.`,
      );
    }
    return this.#issuer.issue(seed, 'login', accountOf(grant));
  }
}

function accountOf(grant: RunGrant) {
  return { namespace: grant.namespace, name: grant.accountName, uid: grant.accountUid };
}
