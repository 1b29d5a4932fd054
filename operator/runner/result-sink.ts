import type { SecretValue } from '../secrets/secret-value.ts';
import type { TotpSeed } from '../../connectors/sdk/totp-seed.ts';

/**
 * Where a run leaves the material it captured, for the controller to move into the secret store.
 * The seed is written as `pending` BEFORE the app is asked to confirm the enrollment (docs/architecture.md
 * invariant 1), so every write must be durable when the promise resolves.
 */
export interface ResultSink {
  /** This run's seed slot: the candidate the operator handed in (the store's pending seed), or the one this run captured. */
  readSeed(): Promise<StoredSeed | undefined>;
  /** The store's active seed when the run started, to sign in with; never replaced or harvested. */
  readActiveSeed(): Promise<TotpSeed | undefined>;
  /** Durably store a seed the app has shown but not yet confirmed (or one this run adopted); replaces the slot's seed. */
  writePendingSeed(seed: TotpSeed): Promise<void>;
  /** The app accepted the stored seed (confirmed now, or verified by a later run). */
  markConfirmed(): Promise<void>;
  writeRecoveryCodes(codes: SecretValue<readonly string[]>): Promise<void>;
  /** MFA was turned off; the slot's seed (if any) no longer opens the account. */
  markDisabled(): Promise<void>;
}

export type SeedState = 'pending' | 'confirmed' | 'disabled';

export interface StoredSeed {
  seed: TotpSeed;
  state: SeedState;
}
