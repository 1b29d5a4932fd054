import type { CustomObjectsApi } from '@kubernetes/client-node';
import { CLUSTER_MFA_SECRET_STORE, GROUP, MFA_SECRET_STORE, VERSION } from '../../api/v1alpha1/resources.ts';
import type { Condition, MfaSecretStore, SecretStoreStatus } from '../../api/v1alpha1/types.generated.ts';
import type { SecretStoreProvider, StoreValidation } from '../../stores/provider.ts';
import { isStoreError } from '../../stores/store-error.ts';
import type { SyncResult } from '../runtime/controller.ts';
import type { EventRecorder } from '../runtime/events.ts';
import { setCondition, type ConditionUpdate } from '../status/conditions.ts';

export type StoreKind = 'MfaSecretStore' | 'ClusterMfaSecretStore';

export interface SecretStoreReconcilerDeps {
  custom: CustomObjectsApi;
  cached(kind: StoreKind, namespace: string | undefined, name: string): MfaSecretStore | undefined;
  provider(store: MfaSecretStore, kind: StoreKind): Promise<SecretStoreProvider>;
  events: EventRecorder;
  /** Credentials expire and permissions change without an event: look again this often. */
  revalidateMs: number;
  now?: () => Date;
}

/**
 * Says in status whether a store can be used: Ready True, or False with the reason (AuthFailed,
 * PermissionDenied, Unreachable, NotFound, InvalidStoreConfig) and what to do, as ESO's SecretStore does.
 */
export class SecretStoreReconciler {
  readonly #d: SecretStoreReconcilerDeps;

  constructor(deps: SecretStoreReconcilerDeps) {
    this.#d = deps;
  }

  async sync(kind: StoreKind, namespace: string | undefined, name: string): Promise<SyncResult> {
    const store = this.#d.cached(kind, namespace, name);
    if (!store) return {};
    const validation = await this.#validate(store, kind);
    const ready: ConditionUpdate = validation.ready
      ? {
          type: 'Ready',
          status: 'True',
          reason: 'Valid',
          message: `The operator can read and write secrets through this ${providerName(store)} store.`,
        }
      : { type: 'Ready', status: 'False', reason: validation.reason, message: validation.message };
    await this.#writeStatus(store, kind, ready);
    return { requeueAfterMs: this.#d.revalidateMs };
  }

  async #validate(
    store: MfaSecretStore,
    kind: StoreKind,
  ): Promise<StoreValidation | { ready: false; reason: string; message: string }> {
    try {
      return await (await this.#d.provider(store, kind)).validate();
    } catch (e: unknown) {
      if (!isStoreError(e)) throw e;
      return { ready: false, reason: e.reason, message: e.message };
    }
  }

  async #writeStatus(store: MfaSecretStore, kind: StoreKind, ready: ConditionUpdate): Promise<void> {
    const before = store.status ?? {};
    const conditions: Condition[] = structuredClone(before.conditions ?? []);
    const previous = conditions.find((c) => c.type === 'Ready');
    const news = !previous || previous.status !== ready.status || previous.reason !== ready.reason;
    const generation = store.metadata.generation ?? 0;
    setCondition(conditions, ready, generation, (this.#d.now ?? (() => new Date()))());
    const status: SecretStoreStatus = {
      ...before,
      provider: providerName(store),
      observedGeneration: generation,
      conditions,
    };
    if (JSON.stringify(status) === JSON.stringify(before)) return;
    const body = { ...store, status };
    const common = { group: GROUP, version: VERSION, name: store.metadata.name! };
    if (kind === 'MfaSecretStore') {
      await this.#d.custom.replaceNamespacedCustomObjectStatus({
        ...common,
        plural: MFA_SECRET_STORE.plural,
        namespace: store.metadata.namespace!,
        body,
      });
    } else {
      await this.#d.custom.replaceClusterCustomObjectStatus({
        ...common,
        plural: CLUSTER_MFA_SECRET_STORE.plural,
        body,
      });
    }
    if (news) {
      const regarding = {
        ...store,
        apiVersion: `${GROUP}/${VERSION}`,
        kind,
        metadata: { ...store.metadata, namespace: store.metadata.namespace ?? 'default' },
      };
      this.#d.events.record(
        regarding,
        ready.status === 'True' ? 'Normal' : 'Warning',
        ready.reason,
        'Validate',
        ready.message,
      );
    }
  }
}

function providerName(store: MfaSecretStore): string {
  return store.spec.provider.gcpSecretManager ? 'gcpSecretManager' : 'kubernetes';
}
