import { describe, expect, it } from 'vitest';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { StoreError } from '../stores/store-error.ts';
import type { AccountRef, StoredSeed } from '../stores/provider.ts';
import { StoreSeedSource, type StoreProviderResolver } from './seed-source.ts';

const SEED = { secret: new SecretValue('JBSWY3DPEHPK3PXP'), algorithm: 'SHA1', digits: 6, period: 30 } as const;

function account(name: string): ManagedAccountMfa {
  return { metadata: { namespace: 'team-a', name, uid: `uid-${name}` }, spec: {} } as unknown as ManagedAccountMfa;
}

function storeReturning(read: (ref: AccountRef) => Promise<StoredSeed | undefined>): StoreProviderResolver {
  return async () => ({ readActiveSeed: read, readPendingSeed: async () => undefined });
}

describe('StoreSeedSource', () => {
  it('reads the active seed for the resource, keyed by its uid', async () => {
    let asked: AccountRef | undefined;
    const source = new StoreSeedSource(
      storeReturning(async (ref) => {
        asked = ref;
        return { seed: SEED, metadata: { version: '1', algorithm: 'SHA1', digits: 6, period: 30, createdAt: '' } };
      }),
    );

    expect(await source.seedOf(account('shared'))).toBe(SEED);
    expect(asked).toEqual({ namespace: 'team-a', name: 'shared', uid: 'uid-shared' });
  });

  it('reports a store without an active seed as no seed', async () => {
    const source = new StoreSeedSource(storeReturning(async () => undefined));

    await expect(source.seedOf(account('pending-only'))).rejects.toMatchObject({ reason: 'NoActiveSeed', status: 404 });
  });

  it('reports a missing store as no seed, and a failing store as unavailable with a retry time', async () => {
    const missing = new StoreSeedSource(async () => {
      throw new StoreError('NotFound', 'MfaSecretStore "gcp" does not exist; create it or fix spec.secretStoreRef.');
    });
    const failing = new StoreSeedSource(
      storeReturning(async () => {
        throw new StoreError('SecretStoreUnavailable', 'Secret team-a/a-mfa-seed: the API server answered 503.');
      }),
    );

    await expect(missing.seedOf(account('a'))).rejects.toMatchObject({
      reason: 'NoActiveSeed',
      message: expect.stringContaining('MfaSecretStore "gcp" does not exist'),
    });
    await expect(failing.seedOf(account('a'))).rejects.toMatchObject({
      reason: 'SecretStoreUnavailable',
      status: 503,
      retryAfterSeconds: 5,
    });
  });
});
