import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import { sameSeed } from '../stores/material.ts';
import type { ResultSeedState } from '../run-contract/result-secret.ts';
import type { JobAction } from '../run-contract/run-spec.ts';
import type { SeedSlot } from '../stores/seed-slots.ts';

/** What the store holds for the account when a run is harvested. */
export interface StoreSeeds {
  active?: TotpSeed;
  pending?: TotpSeed;
}

/** What a run's result Secret says of seeds: the one it captured itself, or which store slot the app took. */
export interface ResultSeed {
  seed?: TotpSeed;
  state?: ResultSeedState;
  adoptedSlot?: SeedSlot;
}

export type SeedHarvest =
  | { kind: 'none'; why: 'NoSeed' | 'DisableRun' | 'SeedTurnedOff' | 'AlreadyActive' }
  | { kind: 'writePending'; promote: boolean }
  | { kind: 'promotePending' };

/**
 * What the harvest does with a run's seed (docs/architecture.md invariant 1). A run never holds a stored seed: when it
 * signed in with the store's pending one and adopted it, it says so (`adoptedSlot`), and that slot is promoted, since
 * the app now requires it; the active slot is the account's seed already. The runner writes a seed of its own only after
 * it found MFA off on the app, so a seed that differs from both stored ones may replace the pending one; a seed
 * equal to the active one is never written to the pending slot (that erased a rotation's new seed), and a seed is
 * promoted only once the app turned MFA on with it (`confirmed`) or the run succeeded.
 *
 * | run seed                  | store             | result                                |
 * |---------------------------|-------------------|---------------------------------------|
 * | any (disable run)         | any               | none (a Disabled run deletes it all)  |
 * | adopted slot `pending`    | pending held      | promote the pending seed              |
 * | adopted slot `pending`    | no pending        | none: promoted already (a repeated harvest) |
 * | adopted slot `active`     | any               | none: it is the account's seed already |
 * | none                      | any               | none                                  |
 * | state `disabled`          | any               | none: MFA went off, the seed is dead  |
 * | equal to active           | any               | none: it is the account's seed already |
 * | equal to pending, or new  | any               | write pending; promote if confirmed or the run succeeded |
 */
export function planSeedHarvest(
  action: JobAction,
  succeeded: boolean,
  result: ResultSeed,
  store: StoreSeeds,
): SeedHarvest {
  if (action === 'disable') return { kind: 'none', why: 'DisableRun' };
  if (result.adoptedSlot === 'pending')
    return store.pending ? { kind: 'promotePending' } : { kind: 'none', why: 'AlreadyActive' };
  if (result.adoptedSlot === 'active') return { kind: 'none', why: 'AlreadyActive' };
  if (!result.seed) return { kind: 'none', why: 'NoSeed' };
  if (result.state === 'disabled') return { kind: 'none', why: 'SeedTurnedOff' };
  if (store.active && sameSeed(store.active, result.seed)) return { kind: 'none', why: 'AlreadyActive' };
  return { kind: 'writePending', promote: succeeded || result.state === 'confirmed' };
}
