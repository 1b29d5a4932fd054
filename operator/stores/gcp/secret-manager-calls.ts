import type { SecretManagerServiceClient, protos } from '@google-cloud/secret-manager';
import { status } from '@grpc/grpc-js';
import type { GcpSecretManagerProvider } from '../../api/v1alpha1/types.generated.ts';
import { StoreError } from '../store-error.ts';
import { crc32c } from './crc32c.ts';
import { grpcCode, toStoreError } from './grpc-errors.ts';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from './secret-ids.ts';

type Secret = protos.google.cloud.secretmanager.v1.ISecret;
type Version = protos.google.cloud.secretmanager.v1.ISecretVersion;
/** Per-call options as google-gax reads them: a deadline and no retries of its own. */
interface CallOptions {
  readonly retry: null;
  readonly timeout: number;
  readonly autoPaginate?: boolean;
}

/** What the provider needs to know about a secret: ownership labels, aliases, annotations, etag. */
export interface SecretSnapshot {
  readonly name: string;
  readonly etag: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly aliases: ReadonlyMap<string, number>;
}

export interface VersionSnapshot {
  readonly number: number;
  readonly enabled: boolean;
  readonly createdAt: string;
}

export interface SecretChange {
  readonly aliases: ReadonlyMap<string, number>;
  readonly annotations: Record<string, string>;
}

function snapshot(secret: Secret): SecretSnapshot {
  const aliases = new Map(Object.entries(secret.versionAliases ?? {}).map(([alias, n]) => [alias, Number(String(n))]));
  return {
    name: secret.name ?? '',
    etag: secret.etag ?? '',
    labels: { ...secret.labels },
    annotations: { ...secret.annotations },
    aliases,
  };
}

function timestamp(value: Version['createTime']): string {
  const seconds = Number(String(value?.seconds ?? 0));
  return new Date(seconds * 1000 + Math.floor((value?.nanos ?? 0) / 1e6)).toISOString();
}

function versionSnapshot(version: Version): VersionSnapshot {
  const number = Number((version.name ?? '').split('/').at(-1));
  return {
    number,
    enabled: version.state === 'ENABLED' || version.state === 1,
    createdAt: timestamp(version.createTime),
  };
}

/**
 * The handful of Secret Manager calls the provider makes, each with a deadline, gax's own retries
 * switched off (the provider retries whole operations, which stay idempotent where single calls
 * are not), and failures turned into StoreErrors.
 */
export class SecretManagerCalls {
  readonly #connect: () => SecretManagerServiceClient;
  readonly #config: GcpSecretManagerProvider;
  readonly #options: CallOptions;
  #current: SecretManagerServiceClient | undefined;

  constructor(connect: () => SecretManagerServiceClient, config: GcpSecretManagerProvider, rpcTimeoutMs: number) {
    this.#connect = connect;
    this.#config = config;
    this.#options = { retry: null, timeout: rpcTimeoutMs };
  }

  /**
   * A client whose channel is set up. The generated client starts its setup inside every call
   * with a promise nobody awaits, so a setup failure (no credentials) would surface as an
   * unhandled rejection and stop the process; awaiting it here first keeps it a StoreError, and
   * the broken client is dropped so the next attempt builds a new one.
   */
  async #ready(): Promise<SecretManagerServiceClient> {
    const client = this.#current ?? this.#connect();
    this.#current = client;
    try {
      await client.initialize();
      return client;
    } catch (e: unknown) {
      this.#current = undefined;
      await client.close().catch(() => undefined);
      throw toStoreError(e, 'setting up a connection');
    }
  }

  get parent(): string {
    const project = `projects/${this.#config.projectID}`;
    return this.#config.location ? `${project}/locations/${this.#config.location}` : project;
  }

  secretName(id: string): string {
    return `${this.parent}/secrets/${id}`;
  }

  async getSecret(name: string): Promise<SecretSnapshot | undefined> {
    const client = await this.#ready();
    try {
      const [secret] = await client.getSecret({ name }, this.#options);
      return snapshot(secret);
    } catch (e: unknown) {
      if (grpcCode(e) === status.NOT_FOUND) return undefined;
      throw toStoreError(e, `reading secret ${name}`);
    }
  }

  /** Creates the secret; undefined when another writer created it first. */
  async createSecret(
    id: string,
    labels: Record<string, string>,
    annotations: Record<string, string>,
  ): Promise<SecretSnapshot | undefined> {
    const secret: Secret = { labels, annotations, ...this.#placement() };
    const client = await this.#ready();
    try {
      const [created] = await client.createSecret({ parent: this.parent, secretId: id, secret }, this.#options);
      return snapshot(created);
    } catch (e: unknown) {
      if (grpcCode(e) === status.ALREADY_EXISTS) return undefined;
      throw toStoreError(e, `creating secret ${this.secretName(id)}`);
    }
  }

  /** Replication and encryption from the store config: regional secrets have neither replication nor replicas. */
  #placement(): Pick<Secret, 'replication' | 'customerManagedEncryption'> {
    const kms = this.#config.kmsKeyName ? { kmsKeyName: this.#config.kmsKeyName } : undefined;
    if (this.#config.location) return kms ? { customerManagedEncryption: kms } : {};
    const locations = this.#config.replicationLocations ?? [];
    if (locations.length === 0) return { replication: { automatic: kms ? { customerManagedEncryption: kms } : {} } };
    const keyLocation = this.#config.kmsKeyName?.split('/')[3];
    if (kms && locations.some((location) => location !== keyLocation)) {
      throw new StoreError(
        'InvalidStoreConfig',
        `kmsKeyName is in ${keyLocation}, but a customer-managed key must be in each replica's location; ` +
          'use replicationLocations with that one location, or automatic replication with a global key.',
      );
    }
    return {
      replication: {
        userManaged: { replicas: locations.map((location) => ({ location, customerManagedEncryption: kms })) },
      },
    };
  }

  async updateSecret(current: SecretSnapshot, change: SecretChange): Promise<SecretSnapshot> {
    const secret: Secret = {
      name: current.name,
      etag: current.etag,
      annotations: change.annotations,
      versionAliases: Object.fromEntries(change.aliases),
    };
    const client = await this.#ready();
    try {
      const [updated] = await client.updateSecret(
        { secret, updateMask: { paths: ['version_aliases', 'annotations'] } },
        this.#options,
      );
      return snapshot(updated);
    } catch (e: unknown) {
      throw toStoreError(e, `updating the version aliases of ${current.name}`);
    }
  }

  async deleteSecret(current: SecretSnapshot): Promise<void> {
    const client = await this.#ready();
    try {
      await client.deleteSecret({ name: current.name, etag: current.etag }, this.#options);
    } catch (e: unknown) {
      if (grpcCode(e) === status.NOT_FOUND) return;
      throw toStoreError(e, `deleting secret ${current.name}`);
    }
  }

  /** All versions, newest first. */
  async listVersions(name: string): Promise<VersionSnapshot[]> {
    const client = await this.#ready();
    try {
      const [versions] = await client.listSecretVersions({ parent: name }, { ...this.#options, autoPaginate: true });
      return versions.map(versionSnapshot).sort((a, b) => b.number - a.number);
    } catch (e: unknown) {
      throw toStoreError(e, `listing the versions of ${name}`);
    }
  }

  async addVersion(name: string, data: Buffer): Promise<VersionSnapshot> {
    const client = await this.#ready();
    try {
      const [version] = await client.addSecretVersion(
        { parent: name, payload: { data, dataCrc32c: crc32c(data) } },
        this.#options,
      );
      return versionSnapshot(version);
    } catch (e: unknown) {
      throw toStoreError(e, `adding a version to ${name}`);
    }
  }

  async access(name: string, version: number): Promise<Buffer> {
    const versionName = `${name}/versions/${version}`;
    let payload: protos.google.cloud.secretmanager.v1.ISecretPayload | null | undefined;
    const client = await this.#ready();
    try {
      [{ payload }] = await client.accessSecretVersion({ name: versionName }, this.#options);
    } catch (e: unknown) {
      throw toStoreError(e, `reading ${versionName} (a disabled or destroyed version cannot be read)`);
    }
    const data = Buffer.from(payload?.data ?? new Uint8Array());
    if (payload?.dataCrc32c != null && Number(String(payload.dataCrc32c)) !== crc32c(data)) {
      throw new StoreError(
        'SecretStoreUnavailable',
        `${versionName} arrived damaged (checksum mismatch); the operator will retry.`,
      );
    }
    return data;
  }

  /** One page of the operator's secrets: proves the identity can reach and list the project. */
  async listOwnedSecrets(): Promise<void> {
    const client = await this.#ready();
    try {
      await client.listSecrets(
        { parent: this.parent, pageSize: 1, filter: `labels.${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}` },
        { ...this.#options, autoPaginate: false },
      );
    } catch (e: unknown) {
      throw toStoreError(e, `listing secrets in ${this.parent}`);
    }
  }

  /** A client whose channel never came up (no credentials) rejects close(); there is nothing to release then. */
  async close(): Promise<void> {
    const client = this.#current;
    this.#current = undefined;
    await client?.close().catch(() => undefined);
  }
}
