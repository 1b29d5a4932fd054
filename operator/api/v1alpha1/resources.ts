export const GROUP = 'mfa-operator.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const MANAGED_ACCOUNT_MFA = { kind: 'ManagedAccountMfa', plural: 'managedaccountmfas' } as const;
export const MFA_SECRET_STORE = { kind: 'MfaSecretStore', plural: 'mfasecretstores' } as const;
export const CLUSTER_MFA_SECRET_STORE = { kind: 'ClusterMfaSecretStore', plural: 'clustermfasecretstores' } as const;

export const FINALIZER = 'mfa-operator.io/finalizer';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'mfa-operator';

/**
 * The opt-in a Secret's owner sets before any ManagedAccountMfa may use it as credentials (or an MfaSecretStore as
 * its key): the operator watches, checks, reads and mounts only Secrets with this label, so naming a Secret does not
 * give a tenant its values.
 */
export const CREDENTIALS_LABEL = 'mfa-operator.io/credentials';
export const CREDENTIALS_LABEL_VALUE = 'true';
export const CREDENTIALS_SELECTOR = `${CREDENTIALS_LABEL}=${CREDENTIALS_LABEL_VALUE}`;

export function credentialsOptedIn(secret: { metadata?: { labels?: Record<string, string> } } | undefined): boolean {
  return secret?.metadata?.labels?.[CREDENTIALS_LABEL] === CREDENTIALS_LABEL_VALUE;
}

/** Watch path of a custom resource, cluster-wide or in one namespace. */
export function resourcePath(plural: string, namespace?: string): string {
  return namespace
    ? `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}`
    : `/apis/${GROUP}/${VERSION}/${plural}`;
}

export function objectKey(namespace: string | undefined, name: string | undefined): string {
  return namespace ? `${namespace}/${name}` : `${name}`;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
