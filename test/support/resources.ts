import { stringify } from 'yaml';
import { CREDENTIALS_LABEL, CREDENTIALS_LABEL_VALUE } from '../../operator/api/v1alpha1/resources.ts';

/**
 * YAML a user would write: a credentials Secret, labelled so the operator may use it (`optedIn: false` leaves the
 * label off, as a Secret that was never meant for the operator), and a ManagedAccountMfa pointing at it.
 */
export function credentialsSecret(
  name: string,
  namespace: string,
  data: Record<string, string>,
  { optedIn = true } = {},
): string {
  const labels = optedIn ? { labels: { [CREDENTIALS_LABEL]: CREDENTIALS_LABEL_VALUE } } : {};
  return stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, ...labels },
    type: 'Opaque',
    stringData: data,
  });
}

export function managedAccountMfa(name: string, namespace: string, spec: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: 'mfa-operator.io/v1alpha1',
    kind: 'ManagedAccountMfa',
    metadata: { name, namespace },
    spec: {
      connector: 'demo',
      account: { displayName: name, credentialsSecretRef: { name: `${name}-login` } },
      ...spec,
    },
  });
}
