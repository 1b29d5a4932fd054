import type { CustomObjectsApi, KubernetesObject } from '@kubernetes/client-node';
import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryStore } from '../../../test/automation/in-memory-store.ts';
import type { MfaSecretStore } from '../../api/v1alpha1/types.generated.ts';
import type { StoreValidation } from '../../stores/provider.ts';
import { StoreError } from '../../stores/store-error.ts';
import type { EventRecorder } from '../runtime/events.ts';
import { SecretStoreReconciler, type StoreKind } from './reconciler.ts';

const REVALIDATE_MS = 300_000;

/** The API calls the store reconciler makes, recorded; a status write becomes the cached copy, as the watch would deliver it. */
class RecordingApi {
  stores = new Map<string, MfaSecretStore>();
  calls: string[] = [];
  events: string[] = [];
  regarding: KubernetesObject[] = [];

  get custom(): CustomObjectsApi {
    const write =
      (verb: string) =>
      async ({ body, namespace }: { body: MfaSecretStore; namespace?: string }) => {
        this.calls.push(`${verb} ${namespace ?? ''}/${body.metadata.name}`);
        this.stores.set(`${namespace ?? ''}/${body.metadata.name}`, structuredClone(body));
        return body;
      };
    return {
      replaceNamespacedCustomObjectStatus: write('update mfasecretstores/status'),
      replaceClusterCustomObjectStatus: write('update clustermfasecretstores/status'),
    } as unknown as CustomObjectsApi;
  }

  get recorder(): EventRecorder {
    return {
      record: (obj: KubernetesObject, type: string, reason: string, action: string, note: string) => {
        this.regarding.push(obj);
        this.events.push(`${type} ${reason} ${action}: ${note}`);
      },
    } as unknown as EventRecorder;
  }
}

let api: RecordingApi;
let clock: Date;
let validation: () => Promise<StoreValidation>;

function reconciler(): SecretStoreReconciler {
  const provider = new InMemoryStore();
  provider.validate = () => validation();
  return new SecretStoreReconciler({
    custom: api.custom,
    cached: (_kind, namespace, name) => structuredClone(api.stores.get(`${namespace ?? ''}/${name}`)),
    provider: async () => provider,
    events: api.recorder,
    revalidateMs: REVALIDATE_MS,
    now: () => clock,
  });
}

function put(kind: StoreKind, name: string, spec: MfaSecretStore['spec'] = { provider: { kubernetes: {} } }): void {
  const namespace = kind === 'MfaSecretStore' ? 'team-a' : undefined;
  api.stores.set(`${namespace ?? ''}/${name}`, {
    apiVersion: 'mfa-operator.io/v1alpha1',
    kind,
    metadata: { name, ...(namespace ? { namespace } : {}), generation: 3 },
    spec,
  } as MfaSecretStore);
}

const ready = (namespace: string, name: string) =>
  api.stores.get(`${namespace}/${name}`)?.status?.conditions?.find((c) => c.type === 'Ready');
const sync = (kind: StoreKind, name: string) =>
  reconciler().sync(kind, kind === 'MfaSecretStore' ? 'team-a' : undefined, name);

beforeEach(() => {
  api = new RecordingApi();
  clock = new Date('2026-12-02T01:00:00Z');
  validation = async () => ({ ready: true });
  put('MfaSecretStore', 'k8s');
});

describe('SecretStoreReconciler: whether a store can be used', () => {
  it('a usable store: Ready True Valid, one status write, one Normal Event, and a look again later', async () => {
    expect(await sync('MfaSecretStore', 'k8s')).toEqual({ requeueAfterMs: REVALIDATE_MS });

    expect(ready('team-a', 'k8s')).toEqual({
      type: 'Ready',
      status: 'True',
      reason: 'Valid',
      message: 'The operator can read and write secrets through this kubernetes store.',
      observedGeneration: 3,
      lastTransitionTime: '2026-12-02T01:00:00Z',
    });
    expect(api.stores.get('team-a/k8s')?.status?.provider).toBe('kubernetes');
    expect(api.calls).toEqual(['update mfasecretstores/status team-a/k8s']);
    expect(api.events).toEqual([
      'Normal Valid Validate: The operator can read and write secrets through this kubernetes store.',
    ]);
  });

  it.each<[string, () => Promise<StoreValidation>, string]>([
    [
      'the provider says why it cannot be used',
      async () => ({ ready: false, reason: 'PermissionDenied', message: 'May not create secrets.' }),
      'PermissionDenied',
    ],
    [
      'the provider cannot even be built (bad key JSON)',
      async () => {
        throw new StoreError('InvalidStoreConfig', 'The key is not JSON.');
      },
      'InvalidStoreConfig',
    ],
    [
      'the provider is unreachable',
      async () => {
        throw new StoreError('SecretStoreUnavailable', 'No answer.');
      },
      'SecretStoreUnavailable',
    ],
  ])('%s: Ready False with that reason, and a Warning', async (_case, validate, reason) => {
    validation = validate;

    await sync('MfaSecretStore', 'k8s');

    expect(ready('team-a', 'k8s')).toMatchObject({ status: 'False', reason });
    expect(api.events).toEqual([expect.stringMatching(new RegExp(`^Warning ${reason} Validate: `))]);
  });

  it("an error that is not the store's is thrown, so the work queue retries it, and nothing is written", async () => {
    validation = async () => {
      throw new TypeError('bug');
    };

    await expect(sync('MfaSecretStore', 'k8s')).rejects.toThrow(TypeError);
    expect(api.calls).toEqual([]);
  });

  it('revalidating with nothing changed writes nothing and tells nothing', async () => {
    await sync('MfaSecretStore', 'k8s');
    api.calls = [];
    api.events = [];
    clock = new Date('2026-12-02T01:05:00Z');

    await sync('MfaSecretStore', 'k8s');

    expect([api.calls, api.events]).toEqual([[], []]);
  });

  it('only the message changed: the status is written, no new Event, and lastTransitionTime stays', async () => {
    validation = async () => ({ ready: false, reason: 'Unreachable', message: 'Timed out after 5s.' });
    await sync('MfaSecretStore', 'k8s');
    validation = async () => ({ ready: false, reason: 'Unreachable', message: 'Connection refused.' });
    clock = new Date('2026-12-02T01:05:00Z');

    await sync('MfaSecretStore', 'k8s');

    expect(api.calls).toHaveLength(2);
    expect(api.events).toHaveLength(1);
    expect(ready('team-a', 'k8s')).toMatchObject({
      message: 'Connection refused.',
      lastTransitionTime: '2026-12-02T01:00:00Z',
    });
  });

  it('a new reason while still not ready: a new Warning', async () => {
    validation = async () => ({ ready: false, reason: 'AuthFailed', message: 'Key revoked.' });
    await sync('MfaSecretStore', 'k8s');
    validation = async () => ({ ready: false, reason: 'PermissionDenied', message: 'May not create secrets.' });

    await sync('MfaSecretStore', 'k8s');

    expect(api.events.map((e) => e.split(':')[0])).toEqual([
      'Warning AuthFailed Validate',
      'Warning PermissionDenied Validate',
    ]);
  });

  it("recovering: a Normal Event, and lastTransitionTime moves to the fixed clock's now", async () => {
    validation = async () => ({ ready: false, reason: 'AuthFailed', message: 'Key revoked.' });
    await sync('MfaSecretStore', 'k8s');
    validation = async () => ({ ready: true });
    clock = new Date('2026-12-02T02:00:00Z');

    await sync('MfaSecretStore', 'k8s');

    expect(api.events.map((e) => e.split(':')[0])).toEqual(['Warning AuthFailed Validate', 'Normal Valid Validate']);
    expect(ready('team-a', 'k8s')?.lastTransitionTime).toBe('2026-12-02T02:00:00Z');
  });

  it('a cluster store: written through the cluster API, its Event in namespace default, its provider named', async () => {
    put('ClusterMfaSecretStore', 'gcp', {
      provider: { gcpSecretManager: { projectID: 'p' } },
    } as MfaSecretStore['spec']);

    await sync('ClusterMfaSecretStore', 'gcp');

    expect(api.calls).toEqual(['update clustermfasecretstores/status /gcp']);
    expect(api.stores.get('/gcp')?.status?.provider).toBe('gcpSecretManager');
    expect(api.regarding[0]).toMatchObject({
      kind: 'ClusterMfaSecretStore',
      metadata: { name: 'gcp', namespace: 'default' },
    });
  });

  it('a store that is gone: nothing to do, nothing written, no requeue', async () => {
    expect(await sync('MfaSecretStore', 'deleted')).toEqual({});
    expect(api.calls).toEqual([]);
  });
});
