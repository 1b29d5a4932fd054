import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { MfaSecretStore } from '../api/v1alpha1/types.generated.ts';
import { ConfiguredStores } from './configured-stores.ts';
import { StoreError } from './store-error.ts';

/** A KubeConfig whose server refuses every connection: a test fails loudly if a Secret read is attempted. */
function unreachableCluster(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'none', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'none' }],
    contexts: [{ name: 'none', cluster: 'none', user: 'none' }],
    currentContext: 'none',
  });
  return kc;
}

function gcpStore(namespace: string | undefined): MfaSecretStore {
  return {
    metadata: { name: 'gcp', namespace: 'team-a', generation: 1 },
    spec: {
      provider: {
        gcpSecretManager: {
          projectID: 'my-project-1',
          auth: { secretRef: { name: 'gcp-key', key: 'key.json', ...(namespace ? { namespace } : {}) } },
        },
      },
    },
  };
}

describe('ConfiguredStores: the key Secret of a namespaced store', () => {
  const stores = () =>
    new ConfiguredStores({
      kc: unreachableCluster(),
      store: async () => undefined,
      clusterStore: async () => undefined,
    });

  it('refuses a namespaced store naming another namespace before reading anything', async () => {
    const error = await stores()
      .forStore(gcpStore('kube-system'), 'MfaSecretStore')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ reason: 'InvalidStoreConfig', retryable: false });
    expect((error as Error).message).toMatch(
      /secretRef\.namespace "kube-system": a namespaced store may read its key Secret only from its own namespace.*Nothing was read/,
    );
  });

  it("reads a cluster store's key from the namespace it names (here: tries, and the unreachable server says AuthFailed)", async () => {
    const error = await stores()
      .forStore({ ...gcpStore('mfa-system'), metadata: { name: 'shared', generation: 1 } }, 'ClusterMfaSecretStore')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'AuthFailed' });
    expect((error as Error).message).toContain('Secret mfa-system/gcp-key');
  });
});
