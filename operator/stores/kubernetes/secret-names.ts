import { createHash } from 'node:crypto';
import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import type { AccountRef } from '../provider.ts';

/** Seed and recovery codes live in separate Secrets so RBAC can grant them separately. */
export type MaterialKind = 'seed' | 'recovery-codes';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'mfa-operator';
export const ACCOUNT_LABEL = 'mfa-operator.io/account';
export const MATERIAL_LABEL = 'mfa-operator.io/material';
/** The full account name (the label may be shortened) and uid, for ownership checks and audits. */
export const ACCOUNT_ANNOTATION = 'mfa-operator.io/account';
export const ACCOUNT_UID_ANNOTATION = 'mfa-operator.io/account-uid';

const MAX_NAME = 253;
const MAX_LABEL_VALUE = 63;
const HASH_LENGTH = 10;
const SUFFIXES: Record<MaterialKind, string> = { seed: '-mfa-seed', 'recovery-codes': '-mfa-recovery-codes' };

function hashOf(name: string): string {
  return createHash('sha256').update(name).digest('hex').slice(0, HASH_LENGTH);
}

/** Cuts `value` to `room` characters and appends a hash of the whole, ending on an alphanumeric. */
function shortened(value: string, room: number): string {
  const head = value.slice(0, room - HASH_LENGTH - 1).replace(/[^a-z0-9]+$/, '');
  return `${head}-${hashOf(value)}`;
}

/** `<name>-mfa-seed` / `<name>-mfa-recovery-codes`; names that would pass 253 characters are hash-shortened. */
export function secretNameFor(ref: AccountRef, kind: MaterialKind): string {
  const suffix = SUFFIXES[kind];
  if (ref.name.length + suffix.length <= MAX_NAME) return `${ref.name}${suffix}`;
  return `${shortened(ref.name, MAX_NAME - suffix.length)}${suffix}`;
}

/** Label values stop at 63 characters; longer account names keep a prefix and a hash. */
export function accountLabelValue(name: string): string {
  return name.length <= MAX_LABEL_VALUE ? name : shortened(name, MAX_LABEL_VALUE);
}

export function labelsFor(ref: AccountRef, kind: MaterialKind): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [ACCOUNT_LABEL]: accountLabelValue(ref.name), [MATERIAL_LABEL]: kind };
}

/** Why the operator must not touch this Secret, or undefined when it may. */
export function ownershipProblem(
  metadata: V1ObjectMeta | undefined,
  ref: AccountRef,
  kind: MaterialKind,
): string | undefined {
  const labels = metadata?.labels ?? {};
  if (labels[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) return `it has no ${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE} label`;
  if (labels[MATERIAL_LABEL] !== kind || metadata?.annotations?.[ACCOUNT_ANNOTATION] !== ref.name) {
    return 'it belongs to another ManagedAccountMfa or holds other material';
  }
  return undefined;
}

const OWNER_API_VERSION = 'mfa-operator.io/v1alpha1';
const OWNER_KIND = 'ManagedAccountMfa';

/**
 * The Secret's owner references with ours set or removed. Other owners are kept. blockOwnerDeletion
 * stays false so the operator needs no extra permission on the owner's finalizers.
 */
export function ownerReferencesFor(
  current: readonly V1OwnerReference[] | undefined,
  ref: AccountRef,
  owned: boolean,
): V1OwnerReference[] {
  const others = (current ?? []).filter(
    (owner) => !(owner.apiVersion.startsWith('mfa-operator.io/') && owner.kind === OWNER_KIND),
  );
  if (!owned) return others;
  return [
    ...others,
    {
      apiVersion: OWNER_API_VERSION,
      kind: OWNER_KIND,
      name: ref.name,
      uid: ref.uid,
      controller: false,
      blockOwnerDeletion: false,
    },
  ];
}
