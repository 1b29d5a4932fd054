import { ApiException, type CustomObjectsApi } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { SecretValue } from '../secrets/secret-value.ts';
import { StoreError } from '../stores/store-error.ts';
import type { AccountRef, StoredSeed } from '../stores/provider.ts';
import { StoreSeedSource, type StoreProviderResolver } from './seed-source.ts';

const SEED = { secret: new SecretValue('JBSWY3DPEHPK3PXP'), algorithm: 'SHA1', digits: 6, period: 30 } as const;

function customWith(names: string[]): CustomObjectsApi {
  return {
    getNamespacedCustomObject: async ({ namespace, name }: { namespace: string; name: string }) => {
      if (!names.includes(name)) throw new ApiException(404, 'not found', '{}', {});
      return { metadata: { namespace, name, uid: `uid-${name}` }, spec: {} };
    },
  } as unknown as CustomObjectsApi;
}

function storeReturning(read: (ref: AccountRef) => Promise<StoredSeed | undefined>): StoreProviderResolver {
  return async () => ({ readActiveSeed: read });
}

describe('StoreSeedSource', () => {
  it('reads the active seed for the resource, keyed by its uid', async () => {
    let asked: AccountRef | undefined;
    const source = new StoreSeedSource(customWith(['shared']), storeReturning(async (ref) => {
      asked = ref;
      return { seed: SEED, metadata: { version: '1', algorithm: 'SHA1', digits: 6, period: 30, createdAt: '' } };
    }));

    expect(await source.readActiveSeed('team-a', 'shared')).toBe(SEED);
    expect(asked).toEqual({ namespace: 'team-a', name: 'shared', uid: 'uid-shared' });
  });

  it('tells a missing resource from a resource without an active seed', async () => {
    const source = new StoreSeedSource(customWith(['pending-only']), storeReturning(async () => undefined));

    await expect(source.readActiveSeed('team-a', 'nope')).rejects.toMatchObject({ reason: 'ManagedAccountMfaNotFound', status: 404 });
    await expect(source.readActiveSeed('team-a', 'pending-only')).rejects.toMatchObject({ reason: 'NoActiveSeed', status: 404 });
  });

  it('reports a missing store as no seed, and a failing store as unavailable with a retry time', async () => {
    const missing = new StoreSeedSource(customWith(['a']), async () => {
      throw new StoreError('NotFound', 'MfaSecretStore "gcp" does not exist; create it or fix spec.secretStoreRef.');
    });
    const failing = new StoreSeedSource(customWith(['a']), storeReturning(async () => {
      throw new StoreError('SecretStoreUnavailable', 'Secret team-a/a-mfa-seed: the API server answered 503.');
    }));

    await expect(missing.readActiveSeed('team-a', 'a')).rejects.toMatchObject({ reason: 'NoActiveSeed', message: expect.stringContaining('MfaSecretStore "gcp" does not exist') });
    await expect(failing.readActiveSeed('team-a', 'a')).rejects.toMatchObject({ reason: 'SecretStoreUnavailable', status: 503, retryAfterSeconds: 5 });
  });
});
