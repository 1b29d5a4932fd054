import { createHash } from 'node:crypto';
import type { AccountRef } from '../provider.ts';

/** What a Secret Manager secret holds; seed and recovery codes are separate secrets so IAM can tell them apart. */
export type MaterialKind = 'seed' | 'recovery-codes';

const PREFIX = 'mfa-operator';
const MAX_SECRET_ID = 255;
const MAX_LABEL_VALUE = 63;
const HASH_LENGTH = 16;

export const MANAGED_BY_LABEL = 'managed-by';
export const MANAGED_BY_VALUE = 'mfa-operator';
const NAMESPACE_LABEL = 'mfa-operator-account-namespace';
const NAME_LABEL = 'mfa-operator-account-name';
const MATERIAL_LABEL = 'mfa-operator-material';

function accountHash(ref: AccountRef): string {
  return createHash('sha256').update(`${ref.namespace}/${ref.name}`).digest('hex').slice(0, HASH_LENGTH);
}

/**
 * `mfa-operator_<namespace>_<name>_<kind>`: deterministic, readable in the console, and
 * unambiguous because namespaces and names never contain `_` (dots in names become `_`).
 * Ids over 255 characters keep a prefix of the name plus a hash of the full account.
 */
export function secretIdFor(ref: AccountRef, kind: MaterialKind): string {
  const name = ref.name.replaceAll('.', '_');
  const id = `${PREFIX}_${ref.namespace}_${name}_${kind}`;
  if (id.length <= MAX_SECRET_ID) return id;
  const room = MAX_SECRET_ID - `${PREFIX}_${ref.namespace}_-${accountHash(ref)}_${kind}`.length;
  return `${PREFIX}_${ref.namespace}_${name.slice(0, room)}-${accountHash(ref)}_${kind}`;
}

/** Label values allow [a-z0-9_-] up to 63 characters: dots become `_`, long names are hash-truncated. */
function labelValue(ref: AccountRef, value: string): string {
  const safe = value.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
  if (safe.length <= MAX_LABEL_VALUE) return safe;
  return `${safe.slice(0, MAX_LABEL_VALUE - HASH_LENGTH - 1)}-${accountHash(ref)}`;
}

export function secretLabelsFor(ref: AccountRef, kind: MaterialKind): Record<string, string> {
  return {
    [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
    [NAMESPACE_LABEL]: labelValue(ref, ref.namespace),
    [NAME_LABEL]: labelValue(ref, ref.name),
    [MATERIAL_LABEL]: kind,
  };
}

/** Why the operator must not touch a secret with this id, or undefined when it may. */
export function ownershipProblem(
  labels: Record<string, string> | null | undefined,
  ref: AccountRef,
  kind: MaterialKind,
): string | undefined {
  const expected = secretLabelsFor(ref, kind);
  if (labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) return `it has no ${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE} label`;
  for (const key of [NAMESPACE_LABEL, NAME_LABEL, MATERIAL_LABEL]) {
    if (labels[key] !== expected[key]) return `its ${key} label names a different account or material`;
  }
  return undefined;
}
