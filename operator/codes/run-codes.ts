import type { Caller } from './caller-review.ts';
import { CodeServiceError } from './code-errors.ts';
import type { CodeIssuer, IssuedCode } from './code-issuer.ts';
import type { RunCodeRequest } from './code-request.ts';
import { authorizeRun, type RunGrant, type RunJobs } from './run-callers.ts';
import { ProcessRunCodeBudget, RUN_RECOVERY_CODES, type RunCodeBudget } from './run-code-budget.ts';
import type { HandedOutCode, RecoveryCodes } from './recovery-codes.ts';
import type { RunSeedSource } from './watched-seeds.ts';
import { SEED_SLOTS, type SeedSlot } from '../stores/seed-slots.ts';

/** The runs that may fall back to a recovery code: they turn MFA off, which a person would do with one too. */
export const RECOVERY_CODE_ACTIONS: readonly string[] = ['disable', 'rotate'];

/** What the run endpoint hands out recovery codes with: the claim of the human route, and a budget of its own. */
export interface RunRecoveryCodes {
  codes: Pick<RecoveryCodes, 'claim'>;
  budget?: RunCodeBudget;
}

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
  readonly #recovery: { codes: Pick<RecoveryCodes, 'claim'>; budget: RunCodeBudget } | undefined;

  constructor(
    jobs: RunJobs,
    seeds: RunSeedSource,
    issuer: CodeIssuer,
    budget: RunCodeBudget = new ProcessRunCodeBudget(),
    recovery?: RunRecoveryCodes,
  ) {
    this.#jobs = jobs;
    this.#seeds = seeds;
    this.#issuer = issuer;
    this.#budget = budget;
    this.#recovery = recovery && {
      codes: recovery.codes,
      budget: recovery.budget ?? new ProcessRunCodeBudget(RUN_RECOVERY_CODES),
    };
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

  /**
   * One stored recovery code for a disable or rotate run whose stored seeds the app refused: claimed in the account's
   * status exactly as the human route claims one (the position asked for, else the first unused), within
   * RUN_RECOVERY_CODE_BUDGET. Which account comes from the grant (the Job), never from the request.
   */
  async recoveryCode(grant: RunGrant, index: number | undefined): Promise<HandedOutCode> {
    const recovery = this.#recovery;
    if (!recovery) throw new CodeServiceError('BadRequest', 'This code service hands out no recovery codes to runs.');
    if (!RECOVERY_CODE_ACTIONS.includes(grant.action ?? '')) {
      throw new CodeServiceError(
        'Forbidden',
        `Run ${grant.namespace}/${grant.job} is a${grant.action ? ` ${grant.action}` : 'n unlabelled'} run: only ` +
          `${RECOVERY_CODE_ACTIONS.join(' and ')} runs may sign in with a recovery code.`,
      );
    }
    await recovery.budget.spend(grant);
    return recovery.codes.claim(
      {
        user: `system:serviceaccount:${grant.namespace}:${grant.job}`,
        job: grant.job,
        uid: grant.accountUid,
        ...(index === undefined ? {} : { index }),
      },
      grant.namespace,
      grant.accountName,
    );
  }
}

function accountOf(grant: RunGrant) {
  return { namespace: grant.namespace, name: grant.accountName, uid: grant.accountUid };
}
