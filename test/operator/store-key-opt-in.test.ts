import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MfaSecretStore } from '../../operator/api/v1alpha1/types.generated.ts';
import { ConfiguredStores } from '../../operator/stores/configured-stores.ts';
import { startControlPlane, type ControlPlane } from '../envtest/control-plane.ts';

const NS = 'team-a';
// Not a service-account key: once the operator reads it, the GCP client refuses it as "not JSON".
const KEY = 'not-a-key-but-another-apps-secret-5';
let cp: ControlPlane;
let stores: ConfiguredStores;

beforeAll(async () => {
  cp = await startControlPlane();
  const core = cp.kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
  await core.createNamespacedSecret({
    namespace: NS,
    body: { metadata: { name: 'plain-key' }, stringData: { 'key.json': KEY } },
  });
  await core.createNamespacedSecret({
    namespace: NS,
    body: {
      metadata: { name: 'labelled-key', labels: { 'mfa-operator.io/credentials': 'true' } },
      stringData: { 'key.json': KEY },
    },
  });
  stores = new ConfiguredStores({
    kc: cp.kubeConfig(),
    store: async () => undefined,
    clusterStore: async () => undefined,
    gcpTestEndpoint: '127.0.0.1:1',
  });
}, 120_000);
afterAll(async () => {
  await stores?.close();
  await cp?.stop();
});

/** The error building the store's provider failed with; fails the test when it was built. */
async function failure(
  store: MfaSecretStore,
  kind: 'MfaSecretStore' | 'ClusterMfaSecretStore',
): Promise<Error & { reason?: string }> {
  const built = await stores.forStore(store, kind).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (!built) throw new Error(`${kind} ${store.metadata.name} was built; expected a failure`);
  return built;
}

const gcpStore = (keySecret: string, namespace?: string): MfaSecretStore => ({
  metadata: { name: `gcp-${keySecret}`, generation: 1, ...(namespace ? { namespace } : {}) },
  spec: {
    provider: {
      gcpSecretManager: {
        projectID: 'my-project-1',
        auth: { secretRef: { name: keySecret, key: 'key.json', ...(namespace ? {} : { namespace: NS }) } },
      },
    },
  },
});

describe('the key Secret of a GCP store, on a real API server', () => {
  it('an MfaSecretStore uses only a key Secret labelled for the operator, and says which label, without the value', async () => {
    const refused = await failure(gcpStore('plain-key', NS), 'MfaSecretStore');
    expect(refused).toMatchObject({ reason: 'AuthFailed' });
    expect(refused.message).toContain(
      'No Secret team-a/plain-key labelled mfa-operator.io/credentials=true has a key "key.json"',
    );
    expect(refused.message).not.toContain(KEY);

    const read = await failure(gcpStore('labelled-key', NS), 'MfaSecretStore');
    expect(read.message).toMatch(/not JSON/); // it was read and handed to the GCP client
  });

  it('a ClusterMfaSecretStore, which only an administrator creates, reads the key Secret it names without the label', async () => {
    const read = await failure(gcpStore('plain-key'), 'ClusterMfaSecretStore');
    expect(read.message).toMatch(/not JSON/);
  });
});
