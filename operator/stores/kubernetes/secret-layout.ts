import { isDeepStrictEqual } from 'node:util';
import type { V1Secret } from '@kubernetes/client-node';
import { SecretValue } from '../../../core/secrets/secret-value.ts';
import { parseSeedParameters, seedFrom, seedParameters, type SeedParameters } from '../material.ts';
import type { AccountRef, RecoveryCodesMetadata, SeedMetadata, StoredSeed, TotpSeedMaterial } from '../provider.ts';
import { StoreError } from '../store-error.ts';
import {
  ACCOUNT_ANNOTATION,
  ACCOUNT_UID_ANNOTATION,
  labelsFor,
  ownerReferencesFor,
  secretNameFor,
  type MaterialKind,
} from './secret-names.ts';
import type { SeedSlot } from '../seed-slots.ts';

/**
 * How material sits in a Secret. The seed Secret has `active` and `pending` keys (base32 seed)
 * with their parameters, version and time in `mfa-operator.io/<slot>-seed` annotations; the
 * recovery-codes Secret has one `codes` key (one code per line).
 */
export const CODES_KEY = 'codes';
const SLOT_ANNOTATIONS: Record<SeedSlot, string> = {
  active: 'mfa-operator.io/active-seed',
  pending: 'mfa-operator.io/pending-seed',
};
export const CODES_ANNOTATION = 'mfa-operator.io/recovery-codes';
/** The last version number handed out in this Secret; versions only grow. */
const LAST_VERSION_ANNOTATION = 'mfa-operator.io/last-version';

interface SlotAnnotation extends SeedParameters {
  version: string;
  createdAt: string;
}

function where(secret: V1Secret): string {
  return `Secret ${secret.metadata?.namespace}/${secret.metadata?.name}`;
}

export function slotMetadata(secret: V1Secret | undefined, slot: SeedSlot): SeedMetadata | undefined {
  const annotation = secret?.metadata?.annotations?.[SLOT_ANNOTATIONS[slot]];
  if (!secret || annotation === undefined || secret.data?.[slot] === undefined) return undefined;
  const context = `Annotation ${SLOT_ANNOTATIONS[slot]} of ${where(secret)}`;
  const parameters = parseSeedParameters(annotation, context);
  const { version, createdAt } = JSON.parse(annotation) as Partial<SlotAnnotation>;
  if (typeof version !== 'string' || typeof createdAt !== 'string') {
    throw new StoreError(
      'CorruptMaterial',
      `${context} has no version or creation time; restore it from a backup or re-enrol the account.`,
    );
  }
  return { version, createdAt, ...parameters };
}

export function slotSeed(secret: V1Secret | undefined, slot: SeedSlot): StoredSeed | undefined {
  const metadata = slotMetadata(secret, slot);
  const encoded = secret?.data?.[slot];
  if (!metadata || encoded === undefined) return undefined;
  const seed = seedFrom(new SecretValue(Buffer.from(encoded, 'base64').toString('utf8')), metadata);
  return { seed, metadata };
}

export function sameSlotSeed(stored: StoredSeed | undefined, seed: TotpSeedMaterial): boolean {
  return (
    stored !== undefined &&
    stored.seed.secret.reveal() === seed.secret.reveal() &&
    isDeepStrictEqual(seedParameters(stored.seed), seedParameters(seed))
  );
}

export function nextVersion(secret: V1Secret | undefined): string {
  const last = Number(secret?.metadata?.annotations?.[LAST_VERSION_ANNOTATION] ?? 0);
  return String((Number.isInteger(last) && last > 0 ? last : 0) + 1);
}

/** Keys to set (a value) or remove (undefined). */
export interface SecretChange {
  readonly data: Record<string, string | undefined>;
  readonly annotations: Record<string, string | undefined>;
}

export function slotChange(slot: SeedSlot, seed: TotpSeedMaterial | undefined, metadata?: SeedMetadata): SecretChange {
  if (!seed || !metadata) return { data: { [slot]: undefined }, annotations: { [SLOT_ANNOTATIONS[slot]]: undefined } };
  const annotation: SlotAnnotation = {
    ...seedParameters(seed),
    version: metadata.version,
    createdAt: metadata.createdAt,
  };
  return {
    data: { [slot]: Buffer.from(seed.secret.reveal(), 'utf8').toString('base64') },
    annotations: { [SLOT_ANNOTATIONS[slot]]: JSON.stringify(annotation), [LAST_VERSION_ANNOTATION]: metadata.version },
  };
}

export function codesMetadata(secret: V1Secret | undefined): RecoveryCodesMetadata | undefined {
  const annotation = secret?.metadata?.annotations?.[CODES_ANNOTATION];
  if (!secret || annotation === undefined || secret.data?.[CODES_KEY] === undefined) return undefined;
  let parsed: Partial<RecoveryCodesMetadata> = {};
  try {
    parsed = JSON.parse(annotation) as Partial<RecoveryCodesMetadata>;
  } catch {
    // reported below like any other malformed annotation
  }
  const { version, count, createdAt } = parsed;
  if (typeof version !== 'string' || typeof count !== 'number' || typeof createdAt !== 'string') {
    throw new StoreError(
      'CorruptMaterial',
      `Annotation ${CODES_ANNOTATION} of ${where(secret)} cannot be read back; restore it from a backup or store the codes again.`,
    );
  }
  return { version, count, createdAt };
}

export function codesChange(encoded: Buffer, metadata: RecoveryCodesMetadata): SecretChange {
  return {
    data: { [CODES_KEY]: encoded.toString('base64') },
    annotations: { [CODES_ANNOTATION]: JSON.stringify(metadata), [LAST_VERSION_ANNOTATION]: metadata.version },
  };
}

export function mergeChanges(...changes: SecretChange[]): SecretChange {
  return {
    data: Object.assign({}, ...changes.map((change) => change.data)),
    annotations: Object.assign({}, ...changes.map((change) => change.annotations)),
  };
}

function applied(
  current: Record<string, string> | undefined,
  change: Record<string, string | undefined>,
): Record<string, string> {
  const result = { ...current };
  for (const [key, value] of Object.entries(change)) {
    if (value === undefined) delete result[key];
    else result[key] = value;
  }
  return result;
}

/** The Secret as it should be after `change`, keeping the existing object's other fields and resourceVersion. */
export function desiredSecret(
  existing: V1Secret | undefined,
  ref: AccountRef,
  kind: MaterialKind,
  change: SecretChange,
  owned: boolean,
): V1Secret {
  const metadata = existing?.metadata ?? {};
  return {
    ...existing,
    apiVersion: 'v1',
    kind: 'Secret',
    type: existing?.type ?? 'Opaque',
    metadata: {
      ...metadata,
      name: secretNameFor(ref, kind),
      namespace: ref.namespace,
      labels: { ...metadata.labels, ...labelsFor(ref, kind) },
      annotations: applied(metadata.annotations, {
        ...change.annotations,
        [ACCOUNT_ANNOTATION]: ref.name,
        [ACCOUNT_UID_ANNOTATION]: ref.uid,
      }),
      ownerReferences: ownerReferencesFor(metadata.ownerReferences, ref, owned),
    },
    data: applied(existing?.data, change.data),
  };
}

/** JSON with object keys sorted, so objects from the API (class instances) compare with literals by content. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );
}

/** Whether writing `desired` would change what is stored: compared before every update. */
export function differs(existing: V1Secret, desired: V1Secret): boolean {
  const fields = (secret: V1Secret) =>
    canonical([
      secret.data ?? {},
      secret.metadata?.labels ?? {},
      secret.metadata?.annotations ?? {},
      secret.metadata?.ownerReferences ?? [],
    ]);
  return fields(existing) !== fields(desired);
}
