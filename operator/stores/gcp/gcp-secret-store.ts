import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import type { GcpSecretManagerProvider } from '../../api/v1alpha1/types.generated.ts';
import { DEFAULT_BACKOFF, withBackoff, type BackoffPolicy } from '../store-retry.ts';
import {
  checkRecoveryCodes,
  checkSeedMaterial,
  decodeRecoveryCodes,
  decodeSeed,
  encodeRecoveryCodes,
  encodeSeed,
  parseSeedParameters,
  sameSeed,
  seedParameters,
  type SeedParameters,
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
import { StoreError, isStoreError } from '../store-error.ts';
import { secretManagerClientFactory, type GcpCredentials, type SecretManagerConnection } from './client.ts';
import { SecretManagerCalls, type SecretSnapshot, type VersionSnapshot } from './secret-manager-calls.ts';
import { ownershipProblem, secretIdFor, secretLabelsFor, type MaterialKind } from './secret-ids.ts';
import { validationFailure } from './validation.ts';

const ACTIVE = 'active';
const PENDING = 'pending';
const DEFAULT_RPC_TIMEOUT_MS = 30_000;

export interface GcpSecretStoreOptions {
  readonly backoff?: BackoffPolicy;
  readonly rpcTimeoutMs?: number;
}

/** The seed secret as observed: which version is active and which newer one is pending. */
interface SeedState {
  readonly secret: SecretSnapshot;
  readonly active?: VersionSnapshot;
  readonly pending?: VersionSnapshot;
}

/** A version that keeps an alias, with the non-secret facts kept in its `version-<n>` annotation. */
interface AliasedVersion {
  readonly alias: string;
  readonly version: VersionSnapshot;
  readonly annotation: string | undefined;
}

function aliased(alias: string, version: VersionSnapshot, annotation: string | undefined): AliasedVersion {
  return { alias, version, annotation };
}

function versionAnnotation(version: VersionSnapshot): string {
  return `version-${version.number}`;
}

/**
 * Google Cloud Secret Manager provider. One secret per account and kind; every write is a new
 * version. The `active` alias is the truth for the active seed; the pending seed is the newest
 * enabled version after it (the `pending` alias mirrors it), so a write that fails between adding
 * the version and moving the alias still leaves the new seed readable as pending. Seed parameters
 * of each live version are kept in an annotation so status can be built without reading payloads.
 */
export class GcpSecretStore implements SecretStoreProvider {
  readonly apiVersion = STORE_PROVIDER_API_VERSION;
  readonly kind = 'gcpSecretManager';
  readonly #calls: SecretManagerCalls;
  readonly #backoff: BackoffPolicy;

  constructor(
    connect: () => SecretManagerServiceClient,
    config: GcpSecretManagerProvider,
    options: GcpSecretStoreOptions = {},
  ) {
    this.#calls = new SecretManagerCalls(connect, config, options.rpcTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS);
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  /** Production entry point; `connection` is only for pointing at a local test server. */
  static create(
    config: GcpSecretManagerProvider,
    credentials: GcpCredentials = {},
    options: GcpSecretStoreOptions & { connection?: SecretManagerConnection } = {},
  ): GcpSecretStore {
    return new GcpSecretStore(secretManagerClientFactory(config, credentials, options.connection), config, options);
  }

  async writePendingSeed(ref: AccountRef, seed: TotpSeedMaterial): Promise<SeedMetadata> {
    checkSeedMaterial(seed);
    return withBackoff(async () => {
      const state = await this.#seedStateOf(await this.#ensureSecret(ref, 'seed'));
      let version = state.pending;
      if (!version || !sameSeed(await this.#seedAt(state.secret, version), seed)) {
        version = await this.#calls.addVersion(state.secret.name, encodeSeed(seed));
      }
      const parameters = seedParameters(seed);
      const keepActive = state.active
        ? [aliased(ACTIVE, state.active, state.secret.annotations[versionAnnotation(state.active)])]
        : [];
      await this.#pointAliases(state.secret, [...keepActive, aliased(PENDING, version, JSON.stringify(parameters))]);
      return seedMetadata(version, parameters);
    }, this.#backoff);
  }

  promotePendingSeed(ref: AccountRef, expectedVersion?: string): Promise<SeedMetadata> {
    return withBackoff(async () => {
      const state = await this.#seedState(ref);
      const { pending, active } = state ?? {};
      if (state && pending && (expectedVersion === undefined || String(pending.number) === expectedVersion)) {
        const parameters = await this.#parametersOf(state.secret, pending);
        await this.#pointAliases(state.secret, [aliased(ACTIVE, pending, JSON.stringify(parameters))]);
        return seedMetadata(pending, parameters);
      }
      if (state && active && expectedVersion !== undefined && String(active.number) === expectedVersion) {
        return seedMetadata(active, await this.#parametersOf(state.secret, active));
      }
      const which = expectedVersion === undefined ? 'pending seed' : `pending seed version ${expectedVersion}`;
      throw new StoreError(
        'NotFound',
        `There is no ${which} for ${ref.namespace}/${ref.name} in ${this.#seedSecretName(ref)}; write the seed again before confirming it.`,
      );
    }, this.#backoff);
  }

  readActiveSeed(ref: AccountRef): Promise<StoredSeed | undefined> {
    return this.#readSeed(ref, (state) => state.active);
  }

  readPendingSeed(ref: AccountRef): Promise<StoredSeed | undefined> {
    return this.#readSeed(ref, (state) => state.pending);
  }

  async writeRecoveryCodes(ref: AccountRef, codes: RecoveryCodes): Promise<RecoveryCodesMetadata> {
    checkRecoveryCodes(codes);
    return withBackoff(async () => {
      const secret = await this.#ensureSecret(ref, 'recovery-codes');
      const versions = await this.#calls.listVersions(secret.name);
      let current = versions.find((version) => version.enabled);
      const bytes = encodeRecoveryCodes(codes);
      if (!current || !bytes.equals(await this.#calls.access(secret.name, current.number))) {
        current = await this.#calls.addVersion(secret.name, bytes);
      }
      const count = codes.reveal().length;
      await this.#pointAliases(secret, [aliased(ACTIVE, current, JSON.stringify({ count }))]);
      return { version: String(current.number), count, createdAt: current.createdAt };
    }, this.#backoff);
  }

  readRecoveryCodes(ref: AccountRef): Promise<StoredRecoveryCodes | undefined> {
    return withBackoff(async () => {
      const found = await this.#currentRecoveryCodes(ref);
      if (!found) return undefined;
      const where = `${found.secret.name}/versions/${found.version.number}`;
      const codes = decodeRecoveryCodes(await this.#calls.access(found.secret.name, found.version.number), where);
      return {
        codes,
        metadata: {
          version: String(found.version.number),
          count: codes.reveal().length,
          createdAt: found.version.createdAt,
        },
      };
    }, this.#backoff);
  }

  readMetadata(ref: AccountRef): Promise<StoredMaterialMetadata> {
    return withBackoff(async () => {
      const state = await this.#seedState(ref);
      const codes = await this.#currentRecoveryCodes(ref);
      const describe = async (version: VersionSnapshot | undefined) =>
        state && version ? seedMetadata(version, await this.#parametersOf(state.secret, version)) : undefined;
      return {
        seedLocation: this.#seedSecretName(ref),
        recoveryCodesLocation: this.#calls.secretName(secretIdFor(ref, 'recovery-codes')),
        active: await describe(state?.active),
        pending: await describe(state?.pending),
        recoveryCodes: codes ? await this.#recoveryCodesMetadata(codes.secret, codes.version) : undefined,
      };
    }, this.#backoff);
  }

  delete(ref: AccountRef): Promise<void> {
    return withBackoff(async () => {
      for (const kind of ['seed', 'recovery-codes'] as const) {
        const secret = await this.#ownedSecret(ref, kind);
        if (secret) await this.#calls.deleteSecret(secret);
      }
    }, this.#backoff);
  }

  async validate(): Promise<StoreValidation> {
    try {
      await withBackoff(() => this.#calls.listOwnedSecrets(), this.#backoff);
      return { ready: true };
    } catch (e: unknown) {
      if (isStoreError(e)) return validationFailure(e, this.#calls.parent);
      throw e;
    }
  }

  close(): Promise<void> {
    return this.#calls.close();
  }

  #seedSecretName(ref: AccountRef): string {
    return this.#calls.secretName(secretIdFor(ref, 'seed'));
  }

  async #ownedSecret(ref: AccountRef, kind: MaterialKind): Promise<SecretSnapshot | undefined> {
    const secret = await this.#calls.getSecret(this.#calls.secretName(secretIdFor(ref, kind)));
    if (secret) assertOwned(secret, ref, kind);
    return secret;
  }

  async #ensureSecret(ref: AccountRef, kind: MaterialKind): Promise<SecretSnapshot> {
    const id = secretIdFor(ref, kind);
    const existing = await this.#ownedSecret(ref, kind);
    if (existing) return existing;
    const created = await this.#calls.createSecret(id, secretLabelsFor(ref, kind), { 'account-uid': ref.uid });
    if (created) return created;
    // Another writer created it between our get and create: use theirs if it is ours to use.
    const raced = await this.#ownedSecret(ref, kind);
    if (!raced)
      throw new StoreError(
        'SecretStoreConflict',
        `${this.#calls.secretName(id)} was created and deleted concurrently; the operator will retry.`,
      );
    return raced;
  }

  async #seedState(ref: AccountRef): Promise<SeedState | undefined> {
    const secret = await this.#ownedSecret(ref, 'seed');
    return secret ? this.#seedStateOf(secret) : undefined;
  }

  async #seedStateOf(secret: SecretSnapshot): Promise<SeedState> {
    const versions = await this.#calls.listVersions(secret.name);
    const activeNumber = secret.aliases.get(ACTIVE);
    const active = versions.find((version) => version.number === activeNumber);
    const newest = versions.find((version) => version.enabled);
    const pending = newest && newest.number > (activeNumber ?? 0) ? newest : undefined;
    return { secret, active, pending };
  }

  async #readSeed(
    ref: AccountRef,
    pick: (state: SeedState) => VersionSnapshot | undefined,
  ): Promise<StoredSeed | undefined> {
    return withBackoff(async () => {
      const state = await this.#seedState(ref);
      const version = state && pick(state);
      if (!state || !version) return undefined;
      const seed = await this.#seedAt(state.secret, version);
      return { seed, metadata: seedMetadata(version, seedParameters(seed)) };
    }, this.#backoff);
  }

  async #seedAt(secret: SecretSnapshot, version: VersionSnapshot): Promise<TotpSeedMaterial> {
    return decodeSeed(
      await this.#calls.access(secret.name, version.number),
      `${secret.name}/versions/${version.number}`,
    );
  }

  /** Parameters from the version's annotation, or from its payload when the annotation write was lost. */
  async #parametersOf(secret: SecretSnapshot, version: VersionSnapshot): Promise<SeedParameters> {
    const annotation = secret.annotations[versionAnnotation(version)];
    if (annotation !== undefined) {
      try {
        return parseSeedParameters(annotation, `Annotation ${versionAnnotation(version)} of ${secret.name}`);
      } catch {
        // A damaged annotation is not fatal: the payload holds the same facts.
      }
    }
    return seedParameters(await this.#seedAt(secret, version));
  }

  /**
   * Makes `live` the secret's only aliases and version annotations; writes only when something
   * differs. Annotations of versions no longer aliased are dropped, other annotations are kept.
   */
  async #pointAliases(secret: SecretSnapshot, live: readonly AliasedVersion[]): Promise<void> {
    const annotations = Object.fromEntries(
      Object.entries(secret.annotations).filter(([key]) => !key.startsWith('version-')),
    );
    for (const { version, annotation } of live) {
      if (annotation !== undefined) annotations[versionAnnotation(version)] = annotation;
    }
    const aliases = new Map(live.map(({ alias, version }) => [alias, version.number]));
    const unchanged =
      JSON.stringify([...aliases].sort()) === JSON.stringify([...secret.aliases].sort()) &&
      JSON.stringify(Object.entries(annotations).sort()) === JSON.stringify(Object.entries(secret.annotations).sort());
    if (!unchanged) await this.#calls.updateSecret(secret, { aliases, annotations });
  }

  async #currentRecoveryCodes(
    ref: AccountRef,
  ): Promise<{ secret: SecretSnapshot; version: VersionSnapshot } | undefined> {
    const secret = await this.#ownedSecret(ref, 'recovery-codes');
    if (!secret) return undefined;
    const version = (await this.#calls.listVersions(secret.name)).find((candidate) => candidate.enabled);
    return version ? { secret, version } : undefined;
  }

  async #recoveryCodesMetadata(secret: SecretSnapshot, version: VersionSnapshot): Promise<RecoveryCodesMetadata> {
    const count =
      annotatedCount(secret.annotations[versionAnnotation(version)]) ??
      decodeRecoveryCodes(await this.#calls.access(secret.name, version.number), secret.name).reveal().length;
    return { version: String(version.number), count, createdAt: version.createdAt };
  }
}

function seedMetadata(version: VersionSnapshot, parameters: SeedParameters): SeedMetadata {
  return { version: String(version.number), ...parameters, createdAt: version.createdAt };
}

function annotatedCount(annotation: string | undefined): number | undefined {
  try {
    const count = (JSON.parse(annotation ?? '{}') as { count?: unknown }).count;
    return typeof count === 'number' && Number.isInteger(count) && count > 0 ? count : undefined;
  } catch {
    return undefined;
  }
}

function assertOwned(secret: SecretSnapshot, ref: AccountRef, kind: MaterialKind): void {
  const problem = ownershipProblem(secret.labels, ref, kind);
  if (problem) {
    throw new StoreError(
      'NotOwned',
      `GCP secret ${secret.name} exists but ${problem}, so mfa-operator will not touch it; ` +
        'delete or rename that secret, or point this account at another store.',
    );
  }
}
