import type { ManagedAccountMfa, StoredMaterialRef } from '../api/v1alpha1/types.generated.ts';
import type { AccountRef, SecretStoreProvider, StoredMaterialMetadata } from './provider.ts';

export interface ResolvedStore {
  provider: SecretStoreProvider;
  storeKind: NonNullable<StoredMaterialRef['storeKind']>;
  storeName?: string;
  /** For messages: "Kubernetes Secrets in namespace team-a", "MfaSecretStore gcp". */
  description: string;
}

/** Finds the provider a ManagedAccountMfa's material goes to (spec.secretStoreRef, or the default). */
export interface StoreResolver {
  forAccount(mfa: ManagedAccountMfa): Promise<ResolvedStore>;
}

export function accountRef(mfa: ManagedAccountMfa): AccountRef {
  return { namespace: mfa.metadata.namespace!, name: mfa.metadata.name!, uid: mfa.metadata.uid! };
}

/** Status references: where the material is, never what it is. */
export function materialRefs(
  store: ResolvedStore,
  meta: StoredMaterialMetadata,
): { seed: StoredMaterialRef; codes: StoredMaterialRef } {
  const base = {
    storeKind: store.storeKind,
    ...(store.storeName ? { storeName: store.storeName } : {}),
    provider: store.provider.kind,
  };
  return {
    seed: { ...base, name: meta.seedLocation, ...(meta.active ? { version: meta.active.version } : {}) },
    codes: {
      ...base,
      name: meta.recoveryCodesLocation,
      ...(meta.recoveryCodes ? { version: meta.recoveryCodes.version } : {}),
    },
  };
}
