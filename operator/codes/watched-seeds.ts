import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import { GROUP, MANAGED_ACCOUNT_MFA, VERSION, resourcePath } from '../api/v1alpha1/resources.ts';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import { ResilientInformer } from '../controller/runtime/informer.ts';
import type { Logger } from '../../core/logging/logger.ts';
import { slotSeed } from '../stores/kubernetes/secret-layout.ts';
import {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  MATERIAL_LABEL,
  ownershipProblem,
  secretNameFor,
} from '../stores/kubernetes/secret-names.ts';
import { isStoreError } from '../stores/store-error.ts';
import { CodeServiceError, isCodeServiceError } from './code-errors.ts';
import {
  noActiveSeed,
  StoreSeedSource,
  type AccountSeed,
  type ActiveSeedSource,
  type StoreProviderResolver,
} from './seed-source.ts';
import { TtlCache } from './ttl-cache.ts';
import type { SeedSlot } from '../stores/seed-slots.ts';

/** Only the Kubernetes store's own seed Secrets: other Secrets' values never enter this process through it. */
export const SEED_SECRET_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${MATERIAL_LABEL}=seed`;

/** How long a request made before the watches are warm waits for them before it is refused. */
const WARM_WAIT_MS = 10_000;

export interface WatchedSeedOptions {
  kc: KubeConfig;
  log: Logger;
  /** The account's store, for accounts with spec.secretStoreRef (read through `storeCacheTtlMs`). */
  providerFor: StoreProviderResolver;
  /** Watch one namespace (the operator's --namespace); all when unset. */
  namespace?: string;
  /** How long a seed read from a named store (e.g. GCP, which cannot be watched) is reused. */
  storeCacheTtlMs: number;
}

/**
 * Seeds at memory speed. ManagedAccountMfa resources and the default store's seed Secrets are
 * watched, so a code costs no API call: an account deleted, or a seed rotated or removed, stops
 * being used as soon as the watch delivers the change. Accounts with a secretStoreRef are read
 * from their store through a short TTL cache with single-flight, keyed by the resource's uid,
 * store reference and the active version in its status, so a changed reference is read afresh.
 * Pending seeds are dropped as Secrets enter the cache and are never used.
 */
export class WatchedSeedSource implements ActiveSeedSource, RunSeedSource {
  readonly #accounts: ResilientInformer<ManagedAccountMfa>;
  readonly #secrets: ResilientInformer<V1Secret>;
  readonly #stored: StoreSeedSource;
  readonly #storeCache: TtlCache<TotpSeed>;
  readonly #parsed = new WeakMap<V1Secret, TotpSeed | undefined>();
  readonly #log: Logger;
  #warm = false;

  constructor(options: WatchedSeedOptions) {
    const { kc, log, namespace } = options;
    const custom = kc.makeApiClient(CustomObjectsApi);
    const core = kc.makeApiClient(CoreV1Api);
    const plural = MANAGED_ACCOUNT_MFA.plural;
    this.#accounts = new ResilientInformer<ManagedAccountMfa>(
      kc,
      resourcePath(plural, namespace),
      () =>
        namespace
          ? custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural })
          : custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural }),
      log,
      undefined,
      slimAccount,
    );
    this.#secrets = new ResilientInformer<V1Secret>(
      kc,
      namespace ? `/api/v1/namespaces/${namespace}/secrets` : '/api/v1/secrets',
      () =>
        namespace
          ? core.listNamespacedSecret({ namespace, labelSelector: SEED_SECRET_SELECTOR })
          : core.listSecretForAllNamespaces({ labelSelector: SEED_SECRET_SELECTOR }),
      log,
      SEED_SECRET_SELECTOR,
      slimSeedSecret,
    );
    this.#stored = new StoreSeedSource(options.providerFor);
    this.#storeCache = new TtlCache(options.storeCacheTtlMs);
    this.#log = log;
  }

  /** Starts both watches; `warm` turns true once both have listed. A failed start is retried by the informers. */
  start(): void {
    for (const informer of [this.#accounts, this.#secrets]) {
      informer
        .start()
        .catch((e: unknown) =>
          this.#log.warn(
            { error: e instanceof Error ? e.message : String(e) },
            'code service watch did not start; retrying',
          ),
        );
    }
    void this.synced().then(() => {
      this.#warm = true;
      this.#log.info('code service watches synced; serving codes from memory');
    });
  }

  synced(): Promise<void> {
    return Promise.all([this.#accounts.synced(), this.#secrets.synced()]).then(() => undefined);
  }

  /** True once every account and seed Secret has been listed: only then may the replica report ready. */
  get warm(): boolean {
    return this.#warm;
  }

  async stop(): Promise<void> {
    await Promise.all([this.#accounts.stop(), this.#secrets.stop()]);
  }

  async readActiveSeed(namespace: string, name: string): Promise<AccountSeed> {
    if (!this.#warm) await this.#untilWarm();
    const account = this.#accounts.get(name, namespace);
    if (!account)
      throw new CodeServiceError(
        'ManagedAccountMfaNotFound',
        `There is no ManagedAccountMfa ${name} in namespace ${namespace}.`,
      );
    const key = { namespace, name, uid: account.metadata.uid ?? '' };
    if (account.spec.secretStoreRef) {
      return {
        seed: await this.#storeCache.getOrLoad(storeCacheKey(account), () => this.#stored.seedOf(account)),
        account: key,
      };
    }
    return { seed: this.#defaultStoreSeed(account), account: key };
  }

  async readRunSeed(account: RunAccount, slot: SeedSlot): Promise<TotpSeed | undefined> {
    if (!this.#warm) await this.#untilWarm();
    const found = this.#accounts.get(account.name, account.namespace);
    if (!found || found.metadata.uid !== account.uid) {
      throw new CodeServiceError(
        'ManagedAccountMfaNotFound',
        `There is no ManagedAccountMfa ${account.name} with the run's uid in namespace ${account.namespace}.`,
      );
    }
    // Pending seeds never enter the cache: a run's read goes to the store (runs are few, and each asks a handful of times).
    if (slot === 'pending') return this.#stored.pendingSeedOf(found);
    try {
      return (await this.readActiveSeed(account.namespace, account.name)).seed;
    } catch (e: unknown) {
      if (isCodeServiceError(e) && e.reason === 'NoActiveSeed') return undefined;
      throw e;
    }
  }

  #defaultStoreSeed(account: ManagedAccountMfa): TotpSeed {
    const { namespace = '', name = '' } = account.metadata;
    const ref = { namespace, name, uid: account.metadata.uid ?? '' };
    const secret = this.#secrets.get(secretNameFor(ref, 'seed'), namespace);
    if (!secret) throw noActiveSeed(namespace, name);
    if (ownershipProblem(secret.metadata, ref, 'seed')) {
      throw new CodeServiceError(
        'SecretStoreUnavailable',
        `The secret store of ${namespace}/${name} failed (NotOwned); retry later.`,
        5,
      );
    }
    if (!this.#parsed.has(secret)) this.#parsed.set(secret, this.#parse(secret, namespace, name));
    const seed = this.#parsed.get(secret);
    if (!seed) throw noActiveSeed(namespace, name);
    return seed;
  }

  #parse(secret: V1Secret, namespace: string, name: string): TotpSeed | undefined {
    try {
      return slotSeed(secret, 'active')?.seed;
    } catch (e: unknown) {
      if (!isStoreError(e)) throw e;
      throw new CodeServiceError(
        'SecretStoreUnavailable',
        `The secret store of ${namespace}/${name} failed (${e.reason}); retry later.`,
        5,
      );
    }
  }

  async #untilWarm(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), WARM_WAIT_MS)));
    const outcome = await Promise.race([this.synced(), late]);
    clearTimeout(timer);
    if (outcome === 'late' && !this.#warm) {
      throw new CodeServiceError(
        'SecretStoreUnavailable',
        'The code service has not yet read the accounts and seeds; retry later.',
        5,
      );
    }
  }
}

/** The account a run belongs to, as its Job names it. */
export interface RunAccount {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** A run's sign-in seeds, one slot at a time; undefined when the slot is empty. */
export interface RunSeedSource {
  readRunSeed(account: RunAccount, slot: SeedSlot): Promise<TotpSeed | undefined>;
}

/** A changed uid, store reference or active version (a rotation) is another key: read afresh. */
function storeCacheKey(account: ManagedAccountMfa): string {
  const { namespace, name, uid } = account.metadata;
  return JSON.stringify([namespace, name, uid, account.spec.secretStoreRef, account.status?.totp?.store]);
}

/** The code service needs an account's identity, spec.secretStoreRef and status.totp only. */
function slimAccount(account: ManagedAccountMfa): void {
  delete account.metadata.managedFields;
  delete account.metadata.annotations;
}

/**
 * Keeps the active seed and the annotations that describe and own it; drops the pending seed (never
 * used for codes), managedFields and kubectl's last-applied copy.
 */
export function slimSeedSecret(secret: V1Secret): void {
  if (secret.data) delete secret.data.pending;
  delete secret.stringData;
  const metadata = secret.metadata;
  if (!metadata) return;
  delete metadata.managedFields;
  metadata.annotations = Object.fromEntries(
    Object.entries(metadata.annotations ?? {}).filter(
      ([key]) => key.startsWith('mfa-operator.io/') && key !== 'mfa-operator.io/pending-seed',
    ),
  );
}
