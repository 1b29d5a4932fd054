import type { V1Namespace, V1Secret } from '@kubernetes/client-node';
import type { ManagedAccountMfa, MfaSecretStore } from '../../api/v1alpha1/types.generated.ts';
import { namespaceAllowed } from './store-access.ts';

/** The outcome of checking what a resource points at; reasons are condition reasons. */
export type ReferenceCheck = { ok: true; message: string } | { ok: false; reason: string; message: string };

export interface ReferenceLookups {
  secret(namespace: string, name: string): V1Secret | undefined;
  store(namespace: string, name: string): MfaSecretStore | undefined;
  clusterStore(name: string): MfaSecretStore | undefined;
  namespace(name: string): V1Namespace | undefined;
  knownConnector(id: string): boolean;
  connectorIds(): string[];
}

export function checkConnector(mfa: ManagedAccountMfa, lookups: ReferenceLookups): ReferenceCheck {
  const id = mfa.spec.connector;
  if (lookups.knownConnector(id)) return { ok: true, message: `Connector "${id}" is available.` };
  return {
    ok: false, reason: 'UnknownConnector',
    message: `spec.connector "${id}" is not a connector of this operator (known: ${lookups.connectorIds().join(', ')}). Fix spec.connector or upgrade the operator.`,
  };
}

/** The credentials Secret must exist in the resource's namespace and hold both keys, non-empty. Values are never read out. */
export function checkCredentials(mfa: ManagedAccountMfa, lookups: ReferenceLookups): ReferenceCheck {
  const ref = mfa.spec.account.credentialsSecretRef;
  const namespace = mfa.metadata.namespace ?? 'default';
  const secret = lookups.secret(namespace, ref.name);
  if (!secret) {
    return {
      ok: false, reason: 'CredentialsSecretNotFound',
      message: `Secret "${ref.name}" (spec.account.credentialsSecretRef.name) does not exist in namespace "${namespace}"; create it with the account's username and password.`,
    };
  }
  const missing = [ref.usernameKey ?? 'username', ref.passwordKey ?? 'password'].filter((key) => !hasValue(secret, key));
  if (missing.length > 0) {
    return {
      ok: false, reason: 'CredentialsKeyMissing',
      message: `Secret "${ref.name}" has no non-empty key ${missing.map((k) => `"${k}"`).join(' or ')}; add it, or point spec.account.credentialsSecretRef.usernameKey/passwordKey at the right keys.`,
    };
  }
  return { ok: true, message: `Secret "${ref.name}" holds a username and a password.` };
}

export function checkSecretStore(mfa: ManagedAccountMfa, lookups: ReferenceLookups): ReferenceCheck {
  const ref = mfa.spec.secretStoreRef;
  const namespace = mfa.metadata.namespace ?? 'default';
  if (!ref) return { ok: true, message: `Kubernetes Secrets in namespace "${namespace}" (default store).` };
  if ((ref.kind ?? 'MfaSecretStore') === 'MfaSecretStore') {
    if (lookups.store(namespace, ref.name)) return { ok: true, message: `MfaSecretStore "${ref.name}".` };
    return notFound(`MfaSecretStore "${ref.name}" does not exist in namespace "${namespace}"; create it or fix spec.secretStoreRef.`);
  }
  const store = lookups.clusterStore(ref.name);
  if (!store) return notFound(`ClusterMfaSecretStore "${ref.name}" does not exist; create it or fix spec.secretStoreRef.`);
  if (!namespaceAllowed(store, namespace, lookups.namespace(namespace))) {
    return {
      ok: false, reason: 'SecretStoreNotAllowed',
      message: `ClusterMfaSecretStore "${ref.name}" does not allow namespace "${namespace}"; add it to the store's spec.conditions or use another store. Nothing was written.`,
    };
  }
  return { ok: true, message: `ClusterMfaSecretStore "${ref.name}".` };
}

function notFound(message: string): ReferenceCheck {
  return { ok: false, reason: 'SecretStoreNotFound', message };
}

function hasValue(secret: V1Secret, key: string): boolean {
  return Boolean(secret.data?.[key]) || Boolean(secret.stringData?.[key]);
}
