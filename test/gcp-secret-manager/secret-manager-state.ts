import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { crc32c } from '../../operator/stores/gcp/crc32c.ts';
import { parseParent, parseSecretName, parseVersionName } from './resource-names.ts';
import { RpcError } from './rpc-error.ts';
import {
  MAX_PAYLOAD_BYTES,
  checkAliasNames,
  checkAnnotations,
  checkLabels,
  checkReplication,
  checkSecretId,
} from './validation.ts';

export type VersionState = 'ENABLED' | 'DISABLED' | 'DESTROYED';

export interface StoredVersion {
  readonly number: number;
  state: VersionState;
  readonly createTime: Date;
  destroyTime?: Date;
  payload?: Buffer;
  etag: string;
}

export interface StoredSecret {
  readonly name: string;
  readonly parent: string;
  readonly createTime: Date;
  readonly replication: unknown;
  readonly customerManagedEncryption: unknown;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  versionAliases: Map<string, number>;
  etag: string;
  readonly versions: StoredVersion[];
}

/** The parts of a Secret message that CreateSecret and UpdateSecret read. */
export interface SecretInput {
  etag?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  versionAliases?: Record<string, string | number>;
  replication?: { automatic?: unknown; userManaged?: { replicas?: { location?: string }[] } } | null;
  customerManagedEncryption?: unknown;
}

const UPDATABLE_FIELDS = ['labels', 'annotations', 'version_aliases'] as const;

function newEtag(): string {
  return `"${randomBytes(7).toString('hex')}"`;
}

function notFound(what: string): RpcError {
  return new RpcError(status.NOT_FOUND, `${what} not found or has no versions.`);
}

/** In-memory Secret Manager: secrets, their numbered versions, aliases and etags. */
export class SecretManagerState {
  readonly #secrets = new Map<string, StoredSecret>();

  createSecret(parent: string, secretId: string, input: SecretInput): StoredSecret {
    parseParent(parent);
    checkSecretId(secretId);
    checkReplication(parent, input.replication);
    const name = `${parent}/secrets/${secretId}`;
    if (this.#secrets.has(name)) throw new RpcError(status.ALREADY_EXISTS, `Secret [${name}] already exists.`);
    const labels = { ...input.labels };
    const annotations = { ...input.annotations };
    checkLabels(labels);
    checkAnnotations(annotations);
    if (Object.keys(input.versionAliases ?? {}).length > 0) {
      throw new RpcError(status.INVALID_ARGUMENT, 'A new secret has no versions to alias.');
    }
    const secret: StoredSecret = {
      name,
      parent,
      createTime: new Date(),
      replication: input.replication ?? null,
      customerManagedEncryption: input.customerManagedEncryption ?? null,
      labels,
      annotations,
      versionAliases: new Map(),
      etag: newEtag(),
      versions: [],
    };
    this.#secrets.set(name, secret);
    return secret;
  }

  getSecret(name: string): StoredSecret {
    parseSecretName(name);
    const secret = this.#secrets.get(name);
    if (!secret) throw new RpcError(status.NOT_FOUND, `Secret [${name}] not found.`);
    return secret;
  }

  updateSecret(name: string, input: SecretInput, paths: readonly string[]): StoredSecret {
    const secret = this.getSecret(name);
    if (paths.length === 0) throw new RpcError(status.INVALID_ARGUMENT, 'update_mask must name at least one field.');
    const unsupported = paths.filter((path) => !(UPDATABLE_FIELDS as readonly string[]).includes(path));
    if (unsupported.length > 0) {
      throw new RpcError(status.INVALID_ARGUMENT, `The test server cannot update [${unsupported.join(', ')}].`);
    }
    checkEtag(secret.etag, input.etag, `Secret [${name}]`);
    const labels = paths.includes('labels') ? { ...input.labels } : secret.labels;
    const annotations = paths.includes('annotations') ? { ...input.annotations } : secret.annotations;
    const aliases = paths.includes('version_aliases')
      ? this.#aliasesFor(secret, input.versionAliases ?? {})
      : secret.versionAliases;
    checkLabels(labels);
    checkAnnotations(annotations);
    Object.assign(secret, { labels, annotations, versionAliases: aliases, etag: newEtag() });
    return secret;
  }

  #aliasesFor(secret: StoredSecret, requested: Record<string, string | number>): Map<string, number> {
    checkAliasNames(Object.keys(requested));
    const aliases = new Map<string, number>();
    for (const [alias, value] of Object.entries(requested)) {
      const number = Number(value);
      const version = secret.versions.find((candidate) => candidate.number === number);
      if (!version || version.state === 'DESTROYED') {
        throw new RpcError(
          status.INVALID_ARGUMENT,
          `Alias [${alias}] names version [${value}], which does not exist or is destroyed.`,
        );
      }
      aliases.set(alias, number);
    }
    return aliases;
  }

  deleteSecret(name: string, etag: string | undefined): void {
    const secret = this.getSecret(name);
    checkEtag(secret.etag, etag, `Secret [${name}]`);
    this.#secrets.delete(name);
  }

  listSecrets(parent: string): StoredSecret[] {
    parseParent(parent);
    return [...this.#secrets.values()]
      .filter((secret) => secret.parent === parent)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  addVersion(
    parent: string,
    data: Buffer,
    dataCrc32c: number | undefined,
  ): { secret: StoredSecret; version: StoredVersion } {
    const secret = this.getSecret(parent);
    if (data.length > MAX_PAYLOAD_BYTES)
      throw new RpcError(status.INVALID_ARGUMENT, `Payload exceeds ${MAX_PAYLOAD_BYTES} bytes.`);
    if (dataCrc32c !== undefined && dataCrc32c !== crc32c(data)) {
      throw new RpcError(
        status.INVALID_ARGUMENT,
        'Payload checksum (data_crc32c) does not match the data; it was damaged in transit.',
      );
    }
    const number = (secret.versions.at(-1)?.number ?? 0) + 1;
    const version: StoredVersion = {
      number,
      state: 'ENABLED',
      createTime: new Date(),
      payload: Buffer.from(data),
      etag: newEtag(),
    };
    secret.versions.push(version);
    return { secret, version };
  }

  /** Resolves a version number, `latest` (the newest version, whatever its state) or an alias. */
  getVersion(name: string): { secret: StoredSecret; version: StoredVersion } {
    const { secret: secretName, version: id } = parseVersionName(name);
    const secret = this.#secrets.get(secretName);
    if (!secret) throw notFound(`Secret [${secretName}]`);
    const number =
      id === 'latest' ? secret.versions.at(-1)?.number : /^\d+$/.test(id) ? Number(id) : secret.versionAliases.get(id);
    const version = secret.versions.find((candidate) => candidate.number === number);
    if (!version) throw notFound(`Secret Version [${name}]`);
    return { secret, version };
  }

  accessVersion(name: string): { secret: StoredSecret; version: StoredVersion; payload: Buffer } {
    const found = this.getVersion(name);
    if (found.version.state !== 'ENABLED' || !found.version.payload) {
      throw new RpcError(
        status.FAILED_PRECONDITION,
        `Secret Version [${versionName(found.secret, found.version)}] is in ${found.version.state} state.`,
      );
    }
    return { ...found, payload: found.version.payload };
  }

  listVersions(
    parent: string,
    stateFilter: VersionState | undefined,
  ): { secret: StoredSecret; versions: StoredVersion[] } {
    const secret = this.getSecret(parent);
    const versions = secret.versions.filter((version) => !stateFilter || version.state === stateFilter).reverse();
    return { secret, versions };
  }

  setVersionState(
    name: string,
    state: VersionState,
    etag: string | undefined,
  ): { secret: StoredSecret; version: StoredVersion } {
    const found = this.getVersion(name);
    const { version } = found;
    checkEtag(version.etag, etag, `Secret Version [${name}]`);
    if (version.state === 'DESTROYED') {
      throw new RpcError(status.FAILED_PRECONDITION, `Secret Version [${name}] is already DESTROYED.`);
    }
    version.state = state;
    version.etag = newEtag();
    if (state === 'DESTROYED') {
      version.destroyTime = new Date();
      delete version.payload;
    }
    return found;
  }

  /** For assertions: every secret the server holds. */
  secrets(): readonly StoredSecret[] {
    return [...this.#secrets.values()];
  }
}

function checkEtag(current: string, given: string | undefined, what: string): void {
  if (given && given !== current) {
    throw new RpcError(
      status.ABORTED,
      `${what} was changed concurrently; the etag no longer matches. Re-read and retry.`,
    );
  }
}

export function versionName(secret: StoredSecret, version: StoredVersion): string {
  return `${secret.name}/versions/${version.number}`;
}
