/**
 * Why a store operation failed. Each reason is one CamelCase word the controller can put on a
 * condition as it is.
 */
export const STORE_ERROR_REASONS = [
  /** The store did not answer or answered "try again" (transient). */
  'SecretStoreUnavailable',
  /** Someone else changed the stored object between our read and our write (transient). */
  'SecretStoreConflict',
  /** The store rejected the operator's identity. */
  'AuthFailed',
  /** The identity is known but lacks a permission. */
  'PermissionDenied',
  /** An object with the stored material's name exists but was not written by the operator. */
  'NotOwned',
  /** Something the operation needs does not exist (no pending seed to promote, no project). */
  'NotFound',
  /** The store configuration cannot work (bad key JSON, bad location). */
  'InvalidStoreConfig',
  /** The material handed to the store is not a usable seed or code list. */
  'InvalidMaterial',
  /** Stored data exists but cannot be read back as material. */
  'CorruptMaterial',
] as const;
export type StoreErrorReason = (typeof STORE_ERROR_REASONS)[number];

const RETRYABLE: ReadonlySet<StoreErrorReason> = new Set(['SecretStoreUnavailable', 'SecretStoreConflict']);

/**
 * A store failure with a reason and a message saying what to do. Messages name objects and
 * status codes only, never stored values; the backend's own error is deliberately not kept as
 * `cause` because some backends echo request bodies in their messages.
 */
export class StoreError extends Error {
  readonly reason: StoreErrorReason;
  readonly retryable: boolean;

  constructor(reason: StoreErrorReason, message: string) {
    super(message);
    this.name = 'StoreError';
    this.reason = reason;
    this.retryable = RETRYABLE.has(reason);
  }
}

export function isStoreError(e: unknown): e is StoreError {
  return e instanceof StoreError;
}
