import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import type { SecretStoreProvider } from '../stores/provider.ts';
import { isStoreError } from '../stores/store-error.ts';
import { CodeServiceError } from './code-errors.ts';
import type { LoginAccount } from './login-windows.ts';

/**
 * Where the code service gets an account's active seed. Throws CodeServiceError
 * `ManagedAccountMfaNotFound`, `NoActiveSeed` or `SecretStoreUnavailable`; never returns a pending seed.
 */
export interface ActiveSeedSource {
  readActiveSeed(namespace: string, name: string): Promise<AccountSeed>;
}

/** An account's active seed, and the account it is for (its uid keys the record of handed login windows). */
export interface AccountSeed {
  readonly seed: TotpSeed;
  readonly account: LoginAccount;
}

/** The configured secret store of one account (its secretStoreRef, or the default store); only reading is needed. */
export type StoreProviderResolver = (
  account: ManagedAccountMfa,
) => Promise<Pick<SecretStoreProvider, 'readActiveSeed' | 'readPendingSeed'>>;

/** Reads an account's active seed from its store (for stores the code service cannot watch). */
export class StoreSeedSource {
  readonly #providerFor: StoreProviderResolver;

  constructor(providerFor: StoreProviderResolver) {
    this.#providerFor = providerFor;
  }

  async seedOf(account: ManagedAccountMfa): Promise<TotpSeed> {
    const { namespace = '', name = '' } = account.metadata;
    const stored = await this.#read(account, 'readActiveSeed');
    if (!stored) throw noActiveSeed(namespace, name);
    return stored.seed;
  }

  /** The pending seed (a rotation's or a crashed run's candidate), for the run that must try it; undefined when there is none. */
  async pendingSeedOf(account: ManagedAccountMfa): Promise<TotpSeed | undefined> {
    return (await this.#read(account, 'readPendingSeed'))?.seed;
  }

  async #read(account: ManagedAccountMfa, slot: 'readActiveSeed' | 'readPendingSeed') {
    const { namespace = '', name = '', uid = '' } = account.metadata;
    try {
      return await (await this.#providerFor(account))[slot]({ namespace, name, uid });
    } catch (e: unknown) {
      if (!isStoreError(e)) throw e;
      // Store messages name objects, never stored values, so they can be passed on.
      if (e.reason === 'NotFound')
        throw new CodeServiceError('NoActiveSeed', `No seed can be read for ${namespace}/${name}: ${e.message}`);
      throw new CodeServiceError(
        'SecretStoreUnavailable',
        `The secret store of ${namespace}/${name} failed (${e.reason}); retry later.`,
        5,
      );
    }
  }
}

export function noActiveSeed(namespace: string, name: string): CodeServiceError {
  return new CodeServiceError(
    'NoActiveSeed',
    `ManagedAccountMfa ${namespace}/${name} has no active TOTP seed yet; wait until its SeedStored condition is True.`,
  );
}
