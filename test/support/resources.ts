import { stringify } from 'yaml';

/** YAML a user would write: a credentials Secret and a ManagedAccountMfa pointing at it. */
export function credentialsSecret(name: string, namespace: string, data: Record<string, string>): string {
  return stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', stringData: data });
}

export function managedAccountMfa(name: string, namespace: string, spec: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: 'mfa-operator.io/v1alpha1', kind: 'ManagedAccountMfa', metadata: { name, namespace },
    spec: { connector: 'demo', account: { displayName: name, credentialsSecretRef: { name: `${name}-login` } }, ...spec },
  });
}
