import type { MfaSecretStore } from '../api/v1alpha1/types.generated.ts';

/**
 * Why a namespaced store's key reference is refused, or undefined. Its key Secret must be in the store's own
 * namespace, or a tenant could have the operator read a Secret from any namespace. The schema forbids the field;
 * this catches objects stored before that rule.
 */
export function crossNamespaceKeyRef(store: MfaSecretStore): string | undefined {
  const namespace = store.spec.provider.gcpSecretManager?.auth?.secretRef?.namespace;
  if (namespace === undefined || namespace === store.metadata.namespace) return undefined;
  return (
    `MfaSecretStore "${store.metadata.name}" names spec.provider.gcpSecretManager.auth.secretRef.namespace "${namespace}": ` +
    'a namespaced store may read its key Secret only from its own namespace. Remove the field and keep the key Secret ' +
    'next to the store, or ask an administrator for a ClusterMfaSecretStore. Nothing was read.'
  );
}
