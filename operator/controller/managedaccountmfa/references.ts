import type { V1Namespace, V1Secret } from '@kubernetes/client-node';
import { CREDENTIALS_SELECTOR, credentialsOptedIn } from '../../api/v1alpha1/resources.ts';
import type { ManagedAccountMfa, MfaSecretStore } from '../../api/v1alpha1/types.generated.ts';
import { crossNamespaceKeyRef } from '../../stores/key-secret-namespace.ts';
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
    ok: false,
    reason: 'UnknownConnector',
    message: `spec.connector "${id}" is not a connector of this operator (known: ${lookups.connectorIds().join(', ')}). Fix spec.connector or upgrade the operator.`,
  };
}

/**
 * The credentials Secret must be in the resource's namespace, opted in with the credentials label, and hold both
 * keys, non-empty. Values are never read out. A Secret without the label is reported exactly as a missing one: the
 * operator never sees it, and a tenant cannot learn from a condition which Secrets exist.
 */
export function checkCredentials(mfa: ManagedAccountMfa, lookups: ReferenceLookups): ReferenceCheck {
  const ref = mfa.spec.account.credentialsSecretRef;
  const namespace = mfa.metadata.namespace ?? 'default';
  const secret = lookups.secret(namespace, ref.name);
  if (!secret || !credentialsOptedIn(secret)) return credentialsNotFound(mfa);
  const missing = [ref.usernameKey ?? 'username', ref.passwordKey ?? 'password'].filter(
    (key) => !hasValue(secret, key),
  );
  if (missing.length > 0) {
    return {
      ok: false,
      reason: 'CredentialsKeyMissing',
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
    const store = lookups.store(namespace, ref.name);
    if (!store)
      return notFound(
        `MfaSecretStore "${ref.name}" does not exist in namespace "${namespace}"; create it or fix spec.secretStoreRef.`,
      );
    const crossNamespace = crossNamespaceKeyRef(store);
    if (crossNamespace) return { ok: false, reason: 'InvalidStoreConfig', message: crossNamespace };
    return { ok: true, message: `MfaSecretStore "${ref.name}".` };
  }
  const store = lookups.clusterStore(ref.name);
  if (!store)
    return notFound(`ClusterMfaSecretStore "${ref.name}" does not exist; create it or fix spec.secretStoreRef.`);
  if (!namespaceAllowed(store, namespace, lookups.namespace(namespace))) {
    return {
      ok: false,
      reason: 'SecretStoreNotAllowed',
      message: `ClusterMfaSecretStore "${ref.name}" does not allow namespace "${namespace}"; add it to the store's spec.conditions or use another store. Nothing was written.`,
    };
  }
  return { ok: true, message: `ClusterMfaSecretStore "${ref.name}".` };
}

function notFound(message: string): ReferenceCheck {
  return { ok: false, reason: 'SecretStoreNotFound', message };
}

/** The refusal for a credentials Secret that is missing or not labelled; it says which label to add. */
export function credentialsNotFound(mfa: ManagedAccountMfa): ReferenceCheck & { ok: false } {
  const name = mfa.spec.account.credentialsSecretRef.name;
  const namespace = mfa.metadata.namespace ?? 'default';
  return {
    ok: false,
    reason: 'CredentialsSecretNotFound',
    message:
      `No Secret "${name}" (spec.account.credentialsSecretRef.name) with the label ${CREDENTIALS_SELECTOR} in namespace "${namespace}". ` +
      "The operator uses only Secrets their owner labelled for it: create the Secret with the account's username and password " +
      `and that label, or label an existing one (kubectl label secret ${name} -n ${namespace} ${CREDENTIALS_SELECTOR}).`,
  };
}

function hasValue(secret: V1Secret, key: string): boolean {
  return Boolean(secret.data?.[key]) || Boolean(secret.stringData?.[key]);
}
