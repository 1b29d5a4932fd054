import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { CREDENTIALS_SELECTOR, credentialsOptedIn } from '../api/v1alpha1/resources.ts';
import type { GcpSecretManagerProvider, ManagedAccountMfa, MfaSecretStore } from '../api/v1alpha1/types.generated.ts';
import type { ResolvedStore, StoreResolver } from './store-resolver.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { KubernetesSecretStore } from './kubernetes/kubernetes-secret-store.ts';
import type { SecretStoreProvider } from './provider.ts';
import { StoreError } from './store-error.ts';
import { crossNamespaceKeyRef } from './key-secret-namespace.ts';

export interface ConfiguredStoresOptions {
  kc: KubeConfig;
  /** Store lookups: informer caches on the leader, API reads on other replicas (the code service). */
  store(namespace: string, name: string): Promise<MfaSecretStore | undefined>;
  clusterStore(name: string): Promise<MfaSecretStore | undefined>;
  /** host:port of a plaintext Secret Manager endpoint: the local test server only, never production. */
  gcpTestEndpoint?: string;
}

/**
 * Turns spec.secretStoreRef into a provider. Providers are kept per store and generation, so a GCP
 * client is reused across reconciles and rebuilt when the store's spec changes.
 */
export class ConfiguredStores implements StoreResolver {
  readonly #o: ConfiguredStoresOptions;
  readonly #core: CoreV1Api;
  readonly #default: KubernetesSecretStore;
  readonly #cache = new Map<string, { generation: number | undefined; provider: SecretStoreProvider }>();

  constructor(options: ConfiguredStoresOptions) {
    this.#o = options;
    this.#core = options.kc.makeApiClient(CoreV1Api);
    this.#default = new KubernetesSecretStore(options.kc); // validate() of the default store checks every namespace it serves
  }

  async forAccount(mfa: ManagedAccountMfa): Promise<ResolvedStore> {
    const namespace = mfa.metadata.namespace!;
    const ref = mfa.spec.secretStoreRef;
    if (!ref)
      return {
        provider: this.#default,
        storeKind: 'Default',
        description: `Kubernetes Secrets in namespace ${namespace}`,
      };
    const kind = ref.kind ?? 'MfaSecretStore';
    const store =
      kind === 'MfaSecretStore' ? await this.#o.store(namespace, ref.name) : await this.#o.clusterStore(ref.name);
    if (!store)
      throw new StoreError('NotFound', `${kind} "${ref.name}" does not exist; create it or fix spec.secretStoreRef.`);
    const provider = await this.forStore(store, kind);
    return { provider, storeKind: kind, storeName: ref.name, description: `${kind} ${ref.name}` };
  }

  /** The provider of one store object, reused until the store's spec (generation) changes. */
  async forStore(
    store: MfaSecretStore,
    kind: 'MfaSecretStore' | 'ClusterMfaSecretStore',
  ): Promise<SecretStoreProvider> {
    const key = `${kind}/${store.metadata.namespace ?? ''}/${store.metadata.name}`;
    const cached = this.#cache.get(key);
    if (cached && cached.generation === store.metadata.generation) return cached.provider;
    const provider = await this.#build(store, kind);
    this.#cache.set(key, { generation: store.metadata.generation, provider });
    // A changed store spec replaces the provider; release the old one's connections.
    await cached?.provider.close();
    return provider;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#cache.values()].map((c) => c.provider.close()));
  }

  async #build(store: MfaSecretStore, kind: string): Promise<SecretStoreProvider> {
    const { kubernetes, gcpSecretManager } = store.spec.provider;
    if (kubernetes) {
      const namespace = store.metadata.namespace;
      return new KubernetesSecretStore(this.#o.kc, {
        setOwnerReferences: kubernetes.setOwnerReferences ?? false,
        ...(namespace ? { validationNamespace: namespace } : {}),
      });
    }
    if (!gcpSecretManager) throw new StoreError('NotFound', `${kind} "${store.metadata.name}" names no provider.`);
    return this.#buildGcp(store, kind, gcpSecretManager);
  }

  /** The GCP client (gRPC, google-auth) is loaded on first use only: it costs ~10 MiB RSS that clusters without a GCP store never need. */
  async #buildGcp(store: MfaSecretStore, kind: string, config: GcpSecretManagerProvider): Promise<SecretStoreProvider> {
    const [{ GcpSecretStore }, { credentials: grpcCredentials }] = await Promise.all([
      import('./gcp/gcp-secret-store.ts'),
      import('@grpc/grpc-js'),
    ]);
    const secretRef = config.auth?.secretRef;
    const crossNamespace = kind === 'MfaSecretStore' ? crossNamespaceKeyRef(store) : undefined;
    if (crossNamespace) throw new StoreError('InvalidStoreConfig', crossNamespace);
    // A namespaced store's key is in its own namespace; only a cluster store names one.
    const keyNamespace = kind === 'MfaSecretStore' ? store.metadata.namespace : secretRef?.namespace;
    const serviceAccountKey = secretRef
      ? await this.#readKey(keyNamespace ?? 'default', secretRef.name, secretRef.key, kind === 'MfaSecretStore')
      : undefined;
    const endpoint = this.#o.gcpTestEndpoint;
    const connection = endpoint
      ? {
          apiEndpoint: endpoint.split(':')[0],
          port: Number(endpoint.split(':')[1]),
          sslCreds: grpcCredentials.createInsecure(),
        }
      : undefined;
    return GcpSecretStore.create(
      config,
      serviceAccountKey ? { serviceAccountKey } : {},
      connection ? { connection } : {},
    );
  }

  /**
   * A tenant's store (MfaSecretStore) may use only a key Secret its owner labelled, as for account credentials, and
   * a missing and an unlabelled one read the same; a ClusterMfaSecretStore's key is the administrator's choice.
   */
  async #readKey(namespace: string, name: string, key: string, needsOptIn: boolean): Promise<SecretValue<string>> {
    const secret = await this.#core.readNamespacedSecret({ namespace, name }).catch(() => undefined);
    const value = !needsOptIn || credentialsOptedIn(secret) ? secret?.data?.[key] : undefined;
    if (value) return new SecretValue(Buffer.from(value, 'base64').toString('utf8'));
    if (!needsOptIn)
      throw new StoreError(
        'AuthFailed',
        `Secret ${namespace}/${name} has no key "${key}" with a service-account key JSON; fix spec.provider.gcpSecretManager.auth.secretRef.`,
      );
    throw new StoreError(
      'AuthFailed',
      `No Secret ${namespace}/${name} labelled ${CREDENTIALS_SELECTOR} has a key "${key}" with a service-account key JSON. ` +
        `An MfaSecretStore uses only Secrets their owner labelled (kubectl label secret ${name} -n ${namespace} ${CREDENTIALS_SELECTOR}); ` +
        'or fix spec.provider.gcpSecretManager.auth.secretRef.',
    );
  }
}
