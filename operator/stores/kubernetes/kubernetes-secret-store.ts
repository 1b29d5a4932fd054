import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { DEFAULT_BACKOFF, withBackoff, type BackoffPolicy } from '../store-retry.ts';
import {
  checkRecoveryCodes,
  checkSeedMaterial,
  decodeRecoveryCodes,
  encodeRecoveryCodes,
  seedParameters,
} from '../material.ts';
import {
  STORE_PROVIDER_API_VERSION,
  type AccountRef,
  type RecoveryCodes,
  type RecoveryCodesMetadata,
  type SecretStoreProvider,
  type SeedMetadata,
  type StoreValidation,
  type StoredMaterialMetadata,
  type StoredRecoveryCodes,
  type StoredSeed,
  type TotpSeedMaterial,
} from '../provider.ts';
import { StoreError } from '../store-error.ts';
import { AccessReview } from './access-review.ts';
import { statusCode, toStoreError } from './api-errors.ts';
import {
  CODES_KEY,
  codesChange,
  codesMetadata,
  desiredSecret,
  differs,
  mergeChanges,
  nextVersion,
  sameSlotSeed,
  slotChange,
  slotMetadata,
  slotSeed,
  type SecretChange,
} from './secret-layout.ts';
import { ownershipProblem, secretNameFor, type MaterialKind } from './secret-names.ts';

export interface KubernetesSecretStoreOptions {
  /** The store's `setOwnerReferences`: Secrets are garbage-collected with their ManagedAccountMfa. */
  readonly setOwnerReferences?: boolean;
  /** Where validate() checks access: an MfaSecretStore's namespace; cluster-wide when unset. */
  readonly validationNamespace?: string;
  readonly backoff?: BackoffPolicy;
}

const NO_CHANGE: SecretChange = { data: {}, annotations: {} };

/**
 * Kubernetes Secrets in the account's namespace: `<name>-mfa-seed` and `<name>-mfa-recovery-codes`.
 * Every write is a read, a comparison and, only when something differs, a create or a replace
 * carrying the read resourceVersion, so concurrent writers conflict instead of overwriting each
 * other and identical writes leave the Secret (and its resourceVersion) untouched.
 */
export class KubernetesSecretStore implements SecretStoreProvider {
  readonly apiVersion = STORE_PROVIDER_API_VERSION;
  readonly kind = 'kubernetes';
  readonly #core: CoreV1Api;
  readonly #review: AccessReview;
  readonly #owned: boolean;
  readonly #backoff: BackoffPolicy;

  constructor(kubeConfig: KubeConfig, options: KubernetesSecretStoreOptions = {}) {
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#review = new AccessReview(kubeConfig, options.validationNamespace);
    this.#owned = options.setOwnerReferences ?? false;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  async writePendingSeed(ref: AccountRef, seed: TotpSeedMaterial): Promise<SeedMetadata> {
    checkSeedMaterial(seed);
    return withBackoff(async () => {
      const existing = await this.#read(ref, 'seed');
      const pending = slotSeed(existing, 'pending');
      if (pending && sameSlotSeed(pending, seed)) {
        await this.#write(ref, 'seed', existing, NO_CHANGE);
        return pending.metadata;
      }
      const metadata: SeedMetadata = {
        version: nextVersion(existing),
        ...seedParameters(seed),
        createdAt: new Date().toISOString(),
      };
      await this.#write(ref, 'seed', existing, slotChange('pending', seed, metadata));
      return metadata;
    }, this.#backoff);
  }

  promotePendingSeed(ref: AccountRef, expectedVersion?: string): Promise<SeedMetadata> {
    return withBackoff(async () => {
      const existing = await this.#read(ref, 'seed');
      const pending = slotSeed(existing, 'pending');
      if (pending && (expectedVersion === undefined || pending.metadata.version === expectedVersion)) {
        const promotion = mergeChanges(
          slotChange('active', pending.seed, pending.metadata),
          slotChange('pending', undefined),
        );
        await this.#write(ref, 'seed', existing, promotion);
        return pending.metadata;
      }
      const active = slotMetadata(existing, 'active');
      if (active && expectedVersion !== undefined && active.version === expectedVersion) return active;
      const which = expectedVersion === undefined ? 'pending seed' : `pending seed version ${expectedVersion}`;
      throw new StoreError(
        'NotFound',
        `There is no ${which} in Secret ${ref.namespace}/${secretNameFor(ref, 'seed')}; write the seed again before confirming it.`,
      );
    }, this.#backoff);
  }

  readActiveSeed(ref: AccountRef): Promise<StoredSeed | undefined> {
    return withBackoff(async () => slotSeed(await this.#read(ref, 'seed'), 'active'), this.#backoff);
  }

  readPendingSeed(ref: AccountRef): Promise<StoredSeed | undefined> {
    return withBackoff(async () => slotSeed(await this.#read(ref, 'seed'), 'pending'), this.#backoff);
  }

  async writeRecoveryCodes(ref: AccountRef, codes: RecoveryCodes): Promise<RecoveryCodesMetadata> {
    checkRecoveryCodes(codes);
    const encoded = encodeRecoveryCodes(codes);
    return withBackoff(async () => {
      const existing = await this.#read(ref, 'recovery-codes');
      const current = codesMetadata(existing);
      if (current && existing?.data?.[CODES_KEY] === encoded.toString('base64')) {
        await this.#write(ref, 'recovery-codes', existing, NO_CHANGE);
        return current;
      }
      const metadata = {
        version: nextVersion(existing),
        count: codes.reveal().length,
        createdAt: new Date().toISOString(),
      };
      await this.#write(ref, 'recovery-codes', existing, codesChange(encoded, metadata));
      return metadata;
    }, this.#backoff);
  }

  readRecoveryCodes(ref: AccountRef): Promise<StoredRecoveryCodes | undefined> {
    return withBackoff(async () => {
      const existing = await this.#read(ref, 'recovery-codes');
      const metadata = codesMetadata(existing);
      const encoded = existing?.data?.[CODES_KEY];
      if (!metadata || encoded === undefined) return undefined;
      const where = `Secret ${ref.namespace}/${secretNameFor(ref, 'recovery-codes')}`;
      return { codes: decodeRecoveryCodes(Buffer.from(encoded, 'base64'), where), metadata };
    }, this.#backoff);
  }

  readMetadata(ref: AccountRef): Promise<StoredMaterialMetadata> {
    return withBackoff(async () => {
      const seed = await this.#read(ref, 'seed');
      const codes = await this.#read(ref, 'recovery-codes');
      return {
        seedLocation: secretNameFor(ref, 'seed'),
        recoveryCodesLocation: secretNameFor(ref, 'recovery-codes'),
        active: slotMetadata(seed, 'active'),
        pending: slotMetadata(seed, 'pending'),
        recoveryCodes: codesMetadata(codes),
      };
    }, this.#backoff);
  }

  delete(ref: AccountRef): Promise<void> {
    return withBackoff(async () => {
      for (const kind of ['seed', 'recovery-codes'] as const) {
        const existing = await this.#read(ref, kind);
        if (existing) await this.#delete(existing);
      }
    }, this.#backoff);
  }

  validate(): Promise<StoreValidation> {
    return this.#review.validate();
  }

  async close(): Promise<void> {
    // Each request opens its own connection; nothing is held between calls.
  }

  async #read(ref: AccountRef, kind: MaterialKind): Promise<V1Secret | undefined> {
    const name = secretNameFor(ref, kind);
    let secret: V1Secret;
    try {
      secret = await this.#core.readNamespacedSecret({ name, namespace: ref.namespace });
    } catch (e: unknown) {
      if (statusCode(e) === 404) return undefined;
      throw toStoreError(e, `reading Secret ${ref.namespace}/${name}`);
    }
    const problem = ownershipProblem(secret.metadata, ref, kind);
    if (problem) {
      throw new StoreError(
        'NotOwned',
        `Secret ${ref.namespace}/${name} exists but ${problem}, so mfa-operator will not touch it; ` +
          'delete or rename that Secret, or rename the ManagedAccountMfa.',
      );
    }
    return secret;
  }

  /** Creates or replaces (with the read resourceVersion) only when the desired Secret differs. */
  async #write(
    ref: AccountRef,
    kind: MaterialKind,
    existing: V1Secret | undefined,
    change: SecretChange,
  ): Promise<void> {
    const body = desiredSecret(existing, ref, kind, change, this.#owned);
    const name = secretNameFor(ref, kind);
    if (existing && !differs(existing, body)) return;
    try {
      if (existing) await this.#core.replaceNamespacedSecret({ name, namespace: ref.namespace, body });
      else await this.#core.createNamespacedSecret({ namespace: ref.namespace, body });
    } catch (e: unknown) {
      // A create that finds the Secret already there lost a race: re-read and decide again.
      throw toStoreError(e, `${existing ? 'updating' : 'creating'} Secret ${ref.namespace}/${name}`);
    }
  }

  async #delete(secret: V1Secret): Promise<void> {
    const { name = '', namespace = '', uid, resourceVersion } = secret.metadata ?? {};
    try {
      await this.#core.deleteNamespacedSecret({ name, namespace, body: { preconditions: { uid, resourceVersion } } });
    } catch (e: unknown) {
      if (statusCode(e) === 404) return;
      throw toStoreError(e, `deleting Secret ${namespace}/${name}`);
    }
  }
}
