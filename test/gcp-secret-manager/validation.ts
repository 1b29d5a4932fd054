import { status } from '@grpc/grpc-js';
import { RpcError } from './rpc-error.ts';

// The limits Secret Manager documents for ids, labels, annotations and aliases; the test server
// enforces them so a provider that would be rejected in production is rejected here too.

const SECRET_ID = /^[a-zA-Z0-9_-]{1,255}$/;
const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
const MAX_LABELS = 64;
const ANNOTATION_KEY = /^[a-zA-Z0-9]([a-zA-Z0-9._-]{0,61}[a-zA-Z0-9])?$/;
const MAX_ANNOTATIONS_BYTES = 16 * 1024;
const ALIAS = /^[a-zA-Z][a-zA-Z0-9_-]{0,62}$/;
const MAX_ALIASES = 50;
export const MAX_PAYLOAD_BYTES = 64 * 1024;

function invalid(message: string): RpcError {
  return new RpcError(status.INVALID_ARGUMENT, message);
}

export function checkSecretId(id: string): void {
  if (!SECRET_ID.test(id)) throw invalid(`Secret id [${id}] must match [a-zA-Z0-9_-]{1,255}.`);
}

export function checkLabels(labels: Record<string, string>): void {
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS) throw invalid(`A secret may have at most ${MAX_LABELS} labels.`);
  for (const [key, value] of entries) {
    if (!LABEL_KEY.test(key)) throw invalid(`Label key [${key}] is invalid.`);
    if (!LABEL_VALUE.test(value)) throw invalid(`Label value for [${key}] is invalid.`);
  }
}

export function checkAnnotations(annotations: Record<string, string>): void {
  let bytes = 0;
  for (const [key, value] of Object.entries(annotations)) {
    if (!ANNOTATION_KEY.test(key)) throw invalid(`Annotation key [${key}] is invalid.`);
    bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (bytes > MAX_ANNOTATIONS_BYTES) throw invalid(`Annotations exceed ${MAX_ANNOTATIONS_BYTES} bytes.`);
}

export function checkAliasNames(aliases: Iterable<string>): void {
  let count = 0;
  for (const alias of aliases) {
    count++;
    if (!ALIAS.test(alias) || /^(latest|new)$/i.test(alias)) throw invalid(`Version alias [${alias}] is invalid.`);
  }
  if (count > MAX_ALIASES) throw invalid(`A secret may have at most ${MAX_ALIASES} version aliases.`);
}

interface ReplicationMessage {
  automatic?: unknown;
  userManaged?: { replicas?: { location?: string }[] };
}

/** Global secrets need a replication policy; regional secrets (parent has a location) must not have one. */
export function checkReplication(parent: string, replication: ReplicationMessage | null | undefined): void {
  const regional = parent.includes('/locations/');
  const present = Boolean(replication?.automatic ?? replication?.userManaged);
  if (regional && present) throw invalid('Regional secrets take no replication policy.');
  if (!regional && !present) throw invalid('Secret.replication is required.');
  if (replication?.userManaged) checkReplicas(replication.userManaged.replicas ?? []);
}

function checkReplicas(replicas: readonly { location?: string }[]): void {
  if (replicas.length === 0) throw invalid('User-managed replication needs at least one replica.');
  const locations = replicas.map((replica) => replica.location ?? '');
  if (locations.includes('') || new Set(locations).size !== locations.length) {
    throw invalid('Replica locations must be set and distinct.');
  }
}
