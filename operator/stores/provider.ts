import type { TotpAlgorithm, TotpDigits, TotpSeed } from '../../core/totp/totp-seed.ts';
import type { SecretValue } from '../../core/secrets/secret-value.ts';

/**
 * The contract between the controller and a secret store backend, modelled on the External
 * Secrets Operator's provider interface. Bump the version when a method's meaning changes so a
 * provider written against an older contract fails to type-check instead of misbehaving.
 */
export const STORE_PROVIDER_API_VERSION = 'stores.mfa-operator.io/v1';

/** The ManagedAccountMfa whose material is stored. */
export interface AccountRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** The seed the connector captured; the same shape the connector SDK hands over. */
export type TotpSeedMaterial = TotpSeed;

/** The account's one-time recovery codes, each a string as the app showed it. */
export type RecoveryCodes = SecretValue<readonly string[]>;

/** What may be said about a stored seed without revealing it. */
export interface SeedMetadata {
  /** Store-specific version id (a GCP version number, a counter in the Kubernetes Secret). */
  readonly version: string;
  readonly algorithm: TotpAlgorithm;
  readonly digits: TotpDigits;
  readonly period: number;
  readonly issuer?: string;
  readonly label?: string;
  /** RFC 3339 time the version was written. */
  readonly createdAt: string;
}

export interface RecoveryCodesMetadata {
  readonly version: string;
  readonly count: number;
  readonly createdAt: string;
}

export interface StoredSeed {
  readonly seed: TotpSeedMaterial;
  readonly metadata: SeedMetadata;
}

export interface StoredRecoveryCodes {
  readonly codes: RecoveryCodes;
  readonly metadata: RecoveryCodesMetadata;
}

/** Non-secret facts for status: where the material lives and which versions exist. */
export interface StoredMaterialMetadata {
  /** Secret name (kubernetes) or secret resource name (gcpSecretManager) of the seed. */
  readonly seedLocation: string;
  readonly recoveryCodesLocation: string;
  readonly active?: SeedMetadata;
  readonly pending?: SeedMetadata;
  readonly recoveryCodes?: RecoveryCodesMetadata;
}

/** Why a store cannot be used, as the store's Ready condition reports it. */
export type StoreValidationReason = 'AuthFailed' | 'PermissionDenied' | 'Unreachable' | 'NotFound';

export type StoreValidation =
  | { readonly ready: true }
  | { readonly ready: false; readonly reason: StoreValidationReason; readonly message: string };

export type StoreProviderKind = 'kubernetes' | 'gcpSecretManager';

/**
 * Where a ManagedAccountMfa's TOTP seed and recovery codes live.
 *
 * A seed is written as *pending* before the app confirms it, and becomes *active* only through
 * `promotePendingSeed`, so a new enrolment or a rotation never overwrites the seed that currently
 * unlocks the account (docs/architecture.md invariant 1). Every method is safe to repeat.
 * Failures are thrown as `StoreError`.
 */
export interface SecretStoreProvider {
  readonly apiVersion: typeof STORE_PROVIDER_API_VERSION;
  readonly kind: StoreProviderKind;

  /** Stores the seed as pending; writing the seed already pending changes nothing. */
  writePendingSeed(ref: AccountRef, seed: TotpSeedMaterial): Promise<SeedMetadata>;
  /**
   * Makes the pending seed active. With `expectedVersion`, promotes only that version, and returns
   * quietly when it is already active (a repeated call after a crash).
   */
  promotePendingSeed(ref: AccountRef, expectedVersion?: string): Promise<SeedMetadata>;
  readActiveSeed(ref: AccountRef): Promise<StoredSeed | undefined>;
  readPendingSeed(ref: AccountRef): Promise<StoredSeed | undefined>;

  /** Replaces the stored recovery codes; writing the same codes again changes nothing. */
  writeRecoveryCodes(ref: AccountRef, codes: RecoveryCodes): Promise<RecoveryCodesMetadata>;
  readRecoveryCodes(ref: AccountRef): Promise<StoredRecoveryCodes | undefined>;

  readMetadata(ref: AccountRef): Promise<StoredMaterialMetadata>;
  /** Destroys the seed (active and pending) and the recovery codes. Absent material is not an error. */
  delete(ref: AccountRef): Promise<void>;
  /** Whether the store can be used with the configured identity, for the store's Ready condition. */
  validate(): Promise<StoreValidation>;
  /** Releases connections. */
  close(): Promise<void>;
}
