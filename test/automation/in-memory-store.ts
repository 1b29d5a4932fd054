import { STORE_PROVIDER_API_VERSION, type AccountRef, type RecoveryCodes, type SecretStoreProvider, type SeedMetadata, type StoredSeed, type TotpSeedMaterial } from '../../operator/stores/provider.ts';
import { sameSeed } from '../../operator/stores/material.ts';
import { StoreError } from '../../operator/stores/store-error.ts';

interface Slots {
  active?: StoredSeed;
  pending?: StoredSeed;
  codes?: { codes: RecoveryCodes; metadata: { version: string; count: number; createdAt: string } };
}

/**
 * A secret store in memory with the provider contract's pending/active semantics (operator/stores/contract.ts),
 * for unit tests of the driver and harvest. `failAfter` makes the next calls of one method throw, as an outage would.
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
    if (this.failing.has(method)) throw new StoreError('SecretStoreUnavailable', `in-memory store: ${method} is failing`);
  }

  async writePendingSeed(ref: AccountRef, seed: TotpSeedMaterial): Promise<SeedMetadata> {
    this.#check('writePendingSeed');
    const slots = this.#slots(ref);
    if (slots.pending && sameSeed(slots.pending.seed, seed)) return slots.pending.metadata;
    const metadata: SeedMetadata = { version: String(++this.#versions), algorithm: seed.algorithm, digits: seed.digits, period: seed.period, createdAt: '2026-12-01T10:00:00Z' };
    slots.pending = { seed, metadata };
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
    const metadata = { version: String(++this.#versions), count: codes.reveal().length, createdAt: '2026-12-01T10:00:00Z' };
    this.#slots(ref).codes = { codes, metadata };
    return metadata;
  }

  async readRecoveryCodes(ref: AccountRef) {
    return this.#slots(ref).codes;
  }

  async readMetadata(ref: AccountRef) {
    const slots = this.#slots(ref);
    return {
      seedLocation: `${ref.name}-totp`, recoveryCodesLocation: `${ref.name}-recovery-codes`,
      ...(slots.active ? { active: slots.active.metadata } : {}), ...(slots.pending ? { pending: slots.pending.metadata } : {}),
      ...(slots.codes ? { recoveryCodes: slots.codes.metadata } : {}),
    };
  }

  async delete(ref: AccountRef): Promise<void> {
    this.#check('delete');
    this.accounts.delete(ref.uid);
  }

  async validate() {
    return { ready: true as const };
  }

  async close(): Promise<void> {}
}
