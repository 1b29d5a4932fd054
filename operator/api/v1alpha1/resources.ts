export const GROUP = 'mfa-operator.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const MANAGED_ACCOUNT_MFA = { kind: 'ManagedAccountMfa', plural: 'managedaccountmfas' } as const;
export const MFA_SECRET_STORE = { kind: 'MfaSecretStore', plural: 'mfasecretstores' } as const;
export const CLUSTER_MFA_SECRET_STORE = { kind: 'ClusterMfaSecretStore', plural: 'clustermfasecretstores' } as const;

export const FINALIZER = 'mfa-operator.io/finalizer';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'mfa-operator';

/** Watch path of a custom resource, cluster-wide or in one namespace. */
export function resourcePath(plural: string, namespace?: string): string {
  return namespace ? `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}` : `/apis/${GROUP}/${VERSION}/${plural}`;
}

export function objectKey(namespace: string | undefined, name: string | undefined): string {
  return namespace ? `${namespace}/${name}` : `${name}`;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
