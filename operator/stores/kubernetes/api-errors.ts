import { ApiException } from '@kubernetes/client-node';
import { StoreError, isStoreError, type StoreErrorReason } from '../store-error.ts';

export function statusCode(e: unknown): number | undefined {
  return e instanceof ApiException ? e.code : undefined;
}

/** fetch (undici) reports refused, reset and timed-out connections as TypeError('fetch failed'). */
function isNetworkError(e: unknown): boolean {
  const code = (e as { cause?: { code?: unknown } } | null)?.cause?.code;
  return (
    (e instanceof TypeError && e.message === 'fetch failed') ||
    (typeof code === 'string' &&
      /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|UND_ERR_.*)$/.test(code))
  );
}

function reasonFor(code: number): StoreErrorReason {
  if (code === 401) return 'AuthFailed';
  if (code === 403) return 'PermissionDenied';
  if (code === 404) return 'NotFound';
  if (code === 409) return 'SecretStoreConflict';
  if (code === 400 || code === 422) return 'InvalidMaterial';
  return 'SecretStoreUnavailable';
}

const ADVICE: Partial<Record<StoreErrorReason, string>> = {
  AuthFailed: "check the operator's service account token or kubeconfig",
  PermissionDenied: 'grant the operator get, create, update and delete on secrets in that namespace',
  NotFound: 'check that the namespace exists',
  SecretStoreConflict: 'another writer changed the Secret; the operator will retry',
  InvalidMaterial: 'the API server rejected the Secret; check admission policies on Secrets in that namespace',
  SecretStoreUnavailable: 'the operator will retry with backoff',
};

/**
 * A StoreError naming the HTTP status and what to do. The API server's message is not copied:
 * some admission webhooks echo the submitted object, which here holds a seed.
 */
export function toStoreError(e: unknown, doing: string): unknown {
  if (isStoreError(e)) return e;
  const code = statusCode(e);
  if (code === undefined && !isNetworkError(e)) return e;
  const reason = code === undefined ? 'SecretStoreUnavailable' : reasonFor(code);
  const status = code === undefined ? 'no connection' : `HTTP ${code}`;
  return new StoreError(reason, `The Kubernetes API refused ${doing} (${status}): ${ADVICE[reason]}.`);
}
