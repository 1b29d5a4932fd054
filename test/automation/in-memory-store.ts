import {
  STORE_PROVIDER_API_VERSION,
  type AccountRef,
  type RecoveryCodes,
  type SecretStoreProvider,
  type SeedMetadata,
  type StoredMaterialMetadata,
  type StoredSeed,
  type StoreValidation,
  type TotpSeedMaterial,
} from '../../operator/stores/provider.ts';
import {
  checkRecoveryCodes,
  checkSeedMaterial,
  encodeRecoveryCodes,
  sameSeed,
  seedFrom,
  seedParameters,
} from '../../operator/stores/material.ts';
import { StoreError } from '../../operator/stores/store-error.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';

const CREATED_AT = '2026-12-01T10:00:00Z';

interface Slots {
  active?: StoredSeed;
  pending?: StoredSeed;
  codes?: { codes: RecoveryCodes; metadata: { version: string; count: number; createdAt: string } };
}

/**
 * A secret store in memory that passes the provider contract (test/stores/contract.ts, run against it in
 * in-memory-store.test.ts), for unit tests of the driver and harvest. `failing` makes one method throw, as an outage would.
 */
export class InMemoryStore implements SecretStoreProvider {
  readonly apiVersion = STORE_PROVIDER_API_VERSION;
  readonly kind = 'kubernetes' as const;
  readonly accounts = new Map<string, Slots>();
  /** Method names that throw a StoreError (Unavailable) until removed. */
  readonly failing = new Set<string>();
  #versions = 0;

  #slots(ref: AccountRef): Slots {
    if (!this.accounts.has(ref.uid)) this.accounts.set(ref.uid, {});
    return this.accounts.get(ref.uid)!;
  }

  #check(method: string): void {
    if (this.failing.has(method))
      throw new StoreError('SecretStoreUnavailable', `in-memory store: ${method} is failing`);
  }

  async writePendingSeed(ref: AccountRef, seed: TotpSeedMaterial): Promise<SeedMetadata> {
    this.#check('writePendingSeed');
    checkSeedMaterial(seed);
    const slots = this.#slots(ref);
    if (slots.pending && sameSeed(slots.pending.seed, seed)) return slots.pending.metadata;
    const metadata: SeedMetadata = {
      version: String(++this.#versions),
      ...seedParameters(seed),
      createdAt: CREATED_AT,
    };
    // A copy, as a real store keeps its own bytes: the caller's object changing later changes nothing stored.
    slots.pending = { seed: seedFrom(seed.secret, seed), metadata };
    return metadata;
  }

  async promotePendingSeed(ref: AccountRef, expectedVersion?: string): Promise<SeedMetadata> {
    this.#check('promotePendingSeed');
    const slots = this.#slots(ref);
    if (slots.pending && (expectedVersion === undefined || slots.pending.metadata.version === expectedVersion)) {
      slots.active = slots.pending;
      delete slots.pending;
      return slots.active.metadata;
    }
    if (slots.active && slots.active.metadata.version === expectedVersion) return slots.active.metadata;
    throw new StoreError('NotFound', 'in-memory store: no such pending seed');
  }

  async readActiveSeed(ref: AccountRef): Promise<StoredSeed | undefined> {
    return this.#slots(ref).active;
  }

  async readPendingSeed(ref: AccountRef): Promise<StoredSeed | undefined> {
    return this.#slots(ref).pending;
  }

  async writeRecoveryCodes(ref: AccountRef, codes: RecoveryCodes) {
    this.#check('writeRecoveryCodes');
    checkRecoveryCodes(codes);
    const slots = this.#slots(ref);
    if (slots.codes && encodeRecoveryCodes(slots.codes.codes).equals(encodeRecoveryCodes(codes)))
      return slots.codes.metadata;
    const metadata = { version: String(++this.#versions), count: codes.reveal().length, createdAt: CREATED_AT };
    slots.codes = { codes: new SecretValue([...codes.reveal()]), metadata };
    return metadata;
  }

  async readRecoveryCodes(ref: AccountRef) {
    return this.#slots(ref).codes;
  }

  async readMetadata(ref: AccountRef): Promise<StoredMaterialMetadata> {
    const slots = this.#slots(ref);
    return {
      seedLocation: `${ref.name}-totp`,
      recoveryCodesLocation: `${ref.name}-recovery-codes`,
      active: slots.active?.metadata,
      pending: slots.pending?.metadata,
      recoveryCodes: slots.codes?.metadata,
    };
  }

  async delete(ref: AccountRef): Promise<void> {
    this.#check('delete');
    this.accounts.delete(ref.uid);
  }

  async validate(): Promise<StoreValidation> {
    return { ready: true };
  }

  async close(): Promise<void> {}
}
