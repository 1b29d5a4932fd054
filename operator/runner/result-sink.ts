import type { SecretValue } from '../../core/secrets/secret-value.ts';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import type { ResultSeedState } from '../run-contract/result-secret.ts';
import type { SeedSlot } from '../stores/seed-slots.ts';

/**
 * Where a run leaves the material it captured, for the controller to move into the secret store. It is written
 * only: a run never gets a stored seed (it signs in with codes from the code service). The seed is written as
 * `pending` BEFORE the app is asked to confirm the enrollment (docs/architecture.md invariant 1), so every write must
 * be durable when the promise resolves.
 */
export interface ResultSink {
  /** Durably store a seed the app has shown but not yet confirmed; replaces the slot's seed. */
  writePendingSeed(seed: TotpSeed): Promise<void>;
  /** The app accepted the seed this run captured (it turned MFA on with it). */
  markConfirmed(): Promise<void>;
  /** The app took the seed of this store slot at sign-in and the run adopted it: the harvest promotes a pending one. */
  markAdopted(slot: SeedSlot): Promise<void>;
  writeRecoveryCodes(codes: SecretValue<readonly string[]>): Promise<void>;
  /** MFA was turned off; the slot's seed (if any) no longer opens the account. */
  markDisabled(): Promise<void>;
}

/** A seed and its state as the file sink recorded it. */
export interface RecordedSeed {
  seed: TotpSeed;
  state: ResultSeedState;
}
