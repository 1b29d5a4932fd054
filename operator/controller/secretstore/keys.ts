import type { StoreKind } from './reconciler.ts';

/** Queue keys for stores: "MfaSecretStore/ns/name" or "ClusterMfaSecretStore//name". */
export function storeKey(kind: StoreKind, namespace: string | undefined, name: string | undefined): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

export function parseStoreKey(key: string): { kind: StoreKind; namespace?: string; name: string } {
  const [kind, namespace, name] = key.split('/') as [StoreKind, string, string];
  return { kind, ...(namespace ? { namespace } : {}), name };
}
