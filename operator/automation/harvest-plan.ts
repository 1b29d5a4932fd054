import type { TotpSeed } from '../../connectors/sdk/totp-seed.ts';
import { sameSeed } from '../stores/material.ts';
import type { ResultSeedState } from './result-secret.ts';
import type { RunAction } from './run-names.ts';

/** What the store holds for the account when a run is harvested. */
export interface StoreSeeds {
  active?: TotpSeed;
  pending?: TotpSeed;
}

/** The seed slot of a run's result Secret: the candidate the operator handed in, or one the runner captured. */
export interface ResultSeed {
  seed?: TotpSeed;
  state?: ResultSeedState;
}

export type SeedHarvest =
  | { kind: 'none'; why: 'NoSeed' | 'DisableRun' | 'SeedTurnedOff' | 'AlreadyActive' }
  | { kind: 'writePending'; promote: boolean };

/**
 * What the harvest does with a run's seed (docs/architecture.md invariant 1). The runner writes a seed of its own only after
 * it found MFA off on the app, so a seed that differs from both stored ones may replace the pending one; a seed
 * equal to the active one is never written to the pending slot (that erased a rotation's new seed), and a seed is
 * promoted only once the app turned MFA on with it (`confirmed`) or the run succeeded.
 *
 * | run seed                  | store             | result                                |
 * |---------------------------|-------------------|---------------------------------------|
 * | none                      | any               | none                                  |
 * | any (disable run)         | any               | none (a Disabled run deletes it all)  |
 * | state `disabled`          | any               | none: MFA went off, the seed is dead  |
 * | equal to active           | any               | none: it is the account's seed already |
 * | equal to pending, or new  | any               | write pending; promote if confirmed or the run succeeded |
 */
export function planSeedHarvest(action: RunAction, succeeded: boolean, result: ResultSeed, store: StoreSeeds): SeedHarvest {
  if (!result.seed) return { kind: 'none', why: 'NoSeed' };
  if (action === 'disable') return { kind: 'none', why: 'DisableRun' };
  if (result.state === 'disabled') return { kind: 'none', why: 'SeedTurnedOff' };
  if (store.active && sameSeed(store.active, result.seed)) return { kind: 'none', why: 'AlreadyActive' };
  return { kind: 'writePending', promote: succeeded || result.state === 'confirmed' };
}
