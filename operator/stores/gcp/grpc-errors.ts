import { status } from '@grpc/grpc-js';
import { StoreError, isStoreError, type StoreErrorReason } from '../store-error.ts';

const REASONS: ReadonlyMap<number, StoreErrorReason> = new Map([
  [status.UNAVAILABLE, 'SecretStoreUnavailable'],
  [status.DEADLINE_EXCEEDED, 'SecretStoreUnavailable'],
  [status.RESOURCE_EXHAUSTED, 'SecretStoreUnavailable'],
  [status.ABORTED, 'SecretStoreConflict'],
  [status.UNAUTHENTICATED, 'AuthFailed'],
  [status.PERMISSION_DENIED, 'PermissionDenied'],
  [status.NOT_FOUND, 'NotFound'],
  [status.FAILED_PRECONDITION, 'NotFound'],
  [status.INVALID_ARGUMENT, 'InvalidStoreConfig'],
]);

const ADVICE: Record<StoreErrorReason, string> = {
  SecretStoreUnavailable: 'the operator will retry with backoff',
  SecretStoreConflict: 'another writer changed the secret; the operator will retry',
  AuthFailed: 'check the service-account key Secret or the Workload Identity binding of the operator',
  PermissionDenied: "grant the operator's identity the Secret Manager permissions listed in the store documentation",
  NotFound: 'check the project ID and that the secret or version was not deleted or disabled by hand',
  InvalidStoreConfig: "check the store's location, replication and KMS key settings",
  NotOwned: '',
  InvalidMaterial: '',
  CorruptMaterial: '',
};

export function grpcCode(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** google-auth-library fails before any RPC when no usable credentials exist; those errors carry no gRPC code. */
function isCredentialsError(e: unknown): boolean {
  return e instanceof Error && /credential|private key|invalid_grant|token/i.test(e.message);
}

/**
 * Turns a client failure into a StoreError naming the status code and what to do. The server's own
 * message is not copied: the operator's messages are built from names it controls.
 */
export function toStoreError(e: unknown, doing: string): unknown {
  if (isStoreError(e)) return e;
  const code = grpcCode(e);
  // Codes not listed (INTERNAL, UNKNOWN, ...) are treated as transient server trouble.
  const reason =
    code === undefined
      ? isCredentialsError(e)
        ? 'AuthFailed'
        : undefined
      : (REASONS.get(code) ?? 'SecretStoreUnavailable');
  if (!reason) return e;
  const codeName = code === undefined ? 'no credentials' : status[code];
  return new StoreError(reason, `GCP Secret Manager refused ${doing} (${codeName}): ${ADVICE[reason]}.`);
}
