import type { KubeConfig, KubernetesObject, V1Job, V1Namespace, V1Secret } from '@kubernetes/client-node';
import { BatchV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import {
  CLUSTER_MFA_SECRET_STORE,
  CREDENTIALS_SELECTOR,
  GROUP,
  MANAGED_ACCOUNT_MFA,
  MFA_SECRET_STORE,
  VERSION,
  objectKey,
  resourcePath,
} from '../../api/v1alpha1/resources.ts';
import type { ManagedAccountMfa, MfaSecretStore } from '../../api/v1alpha1/types.generated.ts';
import { RUN_JOB_SELECTOR } from '../../automation/run-names.ts';
import type { Logger } from '../../../core/logging/logger.ts';
import { ResilientInformer } from '../runtime/informer.ts';

export interface MfaInformers {
  mfas: ResilientInformer<ManagedAccountMfa>;
  secrets: ResilientInformer<V1Secret>;
  stores: ResilientInformer<MfaSecretStore>;
  clusterStores: ResilientInformer<MfaSecretStore>;
  namespaces: ResilientInformer<V1Namespace>;
  /** The operator's run Jobs, only when automation runs. */
  jobs?: ResilientInformer<V1Job>;
  all: ResilientInformer<KubernetesObject>[];
}

/** Marks a key that holds a non-empty value in a slimmed Secret. */
export const SLIMMED_VALUE = '*';

/**
 * What the controller reads of a credentials Secret: its identity, resourceVersion, labels and which keys hold a
 * non-empty value. Values, annotations (kubectl's last-applied copy of the data) and managedFields are dropped, so
 * the cache stays small and holds no secret.
 */
export function slimSecret(secret: V1Secret): void {
  secret.data = Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([key, value]) => [key, value ? SLIMMED_VALUE : '']),
  );
  delete secret.stringData;
  if (secret.metadata) {
    delete secret.metadata.annotations;
    delete secret.metadata.managedFields;
  }
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * What no reader of these caches uses: managedFields and kubectl's last-applied copy of the object, most of a small
 * object's bytes. Status writes go through the status subresource, which keeps both on the server.
 */
export function dropBookkeeping(object: KubernetesObject): void {
  const metadata = object.metadata;
  if (!metadata) return;
  delete metadata.managedFields;
  if (metadata.annotations) delete metadata.annotations[LAST_APPLIED];
}

/** Watches for ManagedAccountMfa and everything it refers to, in one namespace or all. */
export function createInformers(kc: KubeConfig, log: Logger, namespace?: string, withJobs = false): MfaInformers {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const listCustom =
    (plural: string, clusterScoped = false) =>
    () =>
      namespace && !clusterScoped
        ? custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural })
        : custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural });
  const mfas = new ResilientInformer<ManagedAccountMfa>(
    kc,
    resourcePath(MANAGED_ACCOUNT_MFA.plural, namespace),
    listCustom(MANAGED_ACCOUNT_MFA.plural),
    log,
    undefined,
    dropBookkeeping,
  );
  const stores = new ResilientInformer<MfaSecretStore>(
    kc,
    resourcePath(MFA_SECRET_STORE.plural, namespace),
    listCustom(MFA_SECRET_STORE.plural),
    log,
    undefined,
    dropBookkeeping,
  );
  const clusterStores = new ResilientInformer<MfaSecretStore>(
    kc,
    resourcePath(CLUSTER_MFA_SECRET_STORE.plural),
    listCustom(CLUSTER_MFA_SECRET_STORE.plural, true),
    log,
    undefined,
    dropBookkeeping,
  );
  // Only Secrets whose owner opted in as credentials: the API server filters, so no other Secret reaches this process.
  const secrets = new ResilientInformer<V1Secret>(
    kc,
    namespace ? `/api/v1/namespaces/${namespace}/secrets` : '/api/v1/secrets',
    () =>
      namespace
        ? core.listNamespacedSecret({ namespace, labelSelector: CREDENTIALS_SELECTOR })
        : core.listSecretForAllNamespaces({ labelSelector: CREDENTIALS_SELECTOR }),
    log,
    CREDENTIALS_SELECTOR,
    slimSecret,
  );
  const namespaces = new ResilientInformer<V1Namespace>(
    kc,
    '/api/v1/namespaces',
    () => core.listNamespace(),
    log,
    undefined,
    dropBookkeeping,
  );
  const all = [mfas, secrets, stores, clusterStores, namespaces] as ResilientInformer<KubernetesObject>[];
  if (!withJobs) return { mfas, secrets, stores, clusterStores, namespaces, all };
  const batch = kc.makeApiClient(BatchV1Api);
  const jobs = new ResilientInformer<V1Job>(
    kc,
    namespace ? `/apis/batch/v1/namespaces/${namespace}/jobs` : '/apis/batch/v1/jobs',
    () =>
      namespace
        ? batch.listNamespacedJob({ namespace, labelSelector: RUN_JOB_SELECTOR })
        : batch.listJobForAllNamespaces({ labelSelector: RUN_JOB_SELECTOR }),
    log,
    RUN_JOB_SELECTOR,
    dropBookkeeping,
  );
  return {
    mfas,
    secrets,
    stores,
    clusterStores,
    namespaces,
    jobs,
    all: [...all, jobs as ResilientInformer<KubernetesObject>],
  };
}

/** Which ManagedAccountMfa keys a change to a referenced object concerns. */
export function dependents(informers: MfaInformers) {
  const mfasIn = (namespace?: string) => informers.mfas.list(namespace);
  const keys = (list: readonly ManagedAccountMfa[]) =>
    list.map((m) => objectKey(m.metadata.namespace, m.metadata.name));
  return {
    ofSecret: (s: V1Secret) =>
      keys(
        mfasIn(s.metadata?.namespace).filter(
          (m) =>
            m.spec.account.credentialsSecretRef.name === s.metadata?.name ||
            m.spec.mfa?.adoptFrom?.secretName === s.metadata?.name,
        ),
      ),
    ofStore: (s: MfaSecretStore) =>
      keys(
        mfasIn(s.metadata.namespace).filter(
          (m) =>
            m.spec.secretStoreRef?.name === s.metadata.name &&
            (m.spec.secretStoreRef?.kind ?? 'MfaSecretStore') === 'MfaSecretStore',
        ),
      ),
    ofClusterStore: (s: MfaSecretStore) =>
      keys(
        mfasIn().filter(
          (m) =>
            m.spec.secretStoreRef?.name === s.metadata.name && m.spec.secretStoreRef?.kind === 'ClusterMfaSecretStore',
        ),
      ),
    ofJob: (job: V1Job) =>
      (job.metadata?.ownerReferences ?? [])
        .filter((o) => o.kind === 'ManagedAccountMfa')
        .map((o) => objectKey(job.metadata?.namespace, o.name)),
    ofNamespace: (ns: V1Namespace) =>
      keys(mfasIn(ns.metadata?.name).filter((m) => m.spec.secretStoreRef?.kind === 'ClusterMfaSecretStore')),
  };
}
