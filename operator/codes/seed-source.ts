import { ApiException, type CustomObjectsApi } from '@kubernetes/client-node';
import type { TotpSeed } from '../../connectors/sdk/totp-seed.ts';
import { GROUP, MANAGED_ACCOUNT_MFA, VERSION } from '../api/v1alpha1/resources.ts';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import type { SecretStoreProvider } from '../stores/provider.ts';
import { isStoreError } from '../stores/store-error.ts';
import { CodeServiceError } from './code-errors.ts';

/**
 * Where the code service gets an account's active seed. Throws CodeServiceError
 * `ManagedAccountMfaNotFound`, `NoActiveSeed` or `SecretStoreUnavailable`; never returns a pending seed.
 */
export interface ActiveSeedSource {
  readActiveSeed(namespace: string, name: string): Promise<TotpSeed>;
}

/** The configured secret store of one account (its secretStoreRef, or the default store); only reading is needed. */
export type StoreProviderResolver = (account: ManagedAccountMfa) => Promise<Pick<SecretStoreProvider, 'readActiveSeed'>>;

/** Reads the ManagedAccountMfa from the API server, then its active seed from its store. */
export class StoreSeedSource implements ActiveSeedSource {
  readonly #custom: CustomObjectsApi;
  readonly #providerFor: StoreProviderResolver;

  constructor(custom: CustomObjectsApi, providerFor: StoreProviderResolver) {
    this.#custom = custom;
    this.#providerFor = providerFor;
  }

  async readActiveSeed(namespace: string, name: string): Promise<TotpSeed> {
    const account = await this.#account(namespace, name);
    const uid = account.metadata.uid ?? '';
    let stored;
    try {
      stored = await (await this.#providerFor(account)).readActiveSeed({ namespace, name, uid });
    } catch (e: unknown) {
      if (!isStoreError(e)) throw e;
      // Store messages name objects, never stored values, so they can be passed on.
      if (e.reason === 'NotFound') throw new CodeServiceError('NoActiveSeed', `No seed can be read for ${namespace}/${name}: ${e.message}`);
      throw new CodeServiceError('SecretStoreUnavailable', `The secret store of ${namespace}/${name} failed (${e.reason}); retry later.`, 5);
    }
    if (!stored) throw noActiveSeed(namespace, name);
    return stored.seed;
  }

  async #account(namespace: string, name: string): Promise<ManagedAccountMfa> {
    try {
      return await this.#custom.getNamespacedCustomObject({
        group: GROUP, version: VERSION, namespace, plural: MANAGED_ACCOUNT_MFA.plural, name,
      }) as ManagedAccountMfa;
    } catch (e: unknown) {
      if (e instanceof ApiException && e.code === 404) {
        throw new CodeServiceError('ManagedAccountMfaNotFound', `There is no ManagedAccountMfa ${name} in namespace ${namespace}.`);
      }
      throw new CodeServiceError('SecretStoreUnavailable', `Reading ManagedAccountMfa ${namespace}/${name} failed; retry later.`, 5);
    }
  }
}

export function noActiveSeed(namespace: string, name: string): CodeServiceError {
  return new CodeServiceError('NoActiveSeed',
    `ManagedAccountMfa ${namespace}/${name} has no active TOTP seed yet; wait until its SeedStored condition is True.`);
}
