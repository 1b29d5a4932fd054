import { status } from '@grpc/grpc-js';
import { RpcError } from './rpc-error.ts';
import { versionName, type StoredSecret, type StoredVersion, type VersionState } from './secret-manager-state.ts';

/** Responses as plain objects in proto-loader's camelCase shape. */

function timestamp(date: Date | undefined): { seconds: number; nanos: number } | null {
  if (!date) return null;
  const ms = date.getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

export function secretMessage(secret: StoredSecret): Record<string, unknown> {
  return {
    name: secret.name,
    replication: secret.replication,
    createTime: timestamp(secret.createTime),
    labels: secret.labels,
    annotations: secret.annotations,
    versionAliases: Object.fromEntries(secret.versionAliases),
    etag: secret.etag,
    customerManagedEncryption: secret.customerManagedEncryption,
  };
}

export function versionMessage(secret: StoredSecret, version: StoredVersion): Record<string, unknown> {
  return {
    name: versionName(secret, version),
    createTime: timestamp(version.createTime),
    destroyTime: timestamp(version.destroyTime),
    state: version.state,
    etag: version.etag,
    clientSpecifiedPayloadChecksum: false,
  };
}

const PAGE_SIZE_DEFAULT = 25;
const PAGE_SIZE_MAX = 25_000;

/** Opaque page tokens are offsets; tests must not rely on their form. */
export function page<T>(
  items: readonly T[],
  pageSize: number,
  pageToken: string,
): { items: T[]; nextPageToken: string } {
  const size = Math.min(pageSize > 0 ? pageSize : PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX);
  const start = pageToken ? Number(Buffer.from(pageToken, 'base64url').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0) throw new RpcError(status.INVALID_ARGUMENT, 'Invalid page_token.');
  const end = start + size;
  return {
    items: items.slice(start, end),
    nextPageToken: end < items.length ? Buffer.from(String(end)).toString('base64url') : '',
  };
}

/** The subset of the list filter syntax the test server understands: `labels.KEY=VALUE` terms joined by AND. */
export function labelFilter(filter: string): (secret: StoredSecret) => boolean {
  const terms = filter.trim() === '' ? [] : filter.trim().split(/\s+(?:AND\s+)?/);
  const wanted = terms.map((term) => {
    const match = /^labels\.([^=:]+)[=:](.*)$/.exec(term);
    if (!match?.[1] || match[2] === undefined) {
      throw new RpcError(
        status.INVALID_ARGUMENT,
        `The test server supports only labels.KEY=VALUE filters, not [${term}].`,
      );
    }
    return [match[1], match[2]] as const;
  });
  return (secret) => wanted.every(([key, value]) => secret.labels[key] === value);
}

export function stateFilter(filter: string): VersionState | undefined {
  if (filter.trim() === '') return undefined;
  const match = /^state[:=](ENABLED|DISABLED|DESTROYED)$/.exec(filter.trim());
  if (!match)
    throw new RpcError(status.INVALID_ARGUMENT, `The test server supports only state:STATE filters, not [${filter}].`);
  return match[1] as VersionState;
}
