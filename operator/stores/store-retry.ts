import { setTimeout as sleep } from 'node:timers/promises';
import { isStoreError } from './store-error.ts';

/** Bounded exponential backoff for transient store failures. */
export interface BackoffPolicy {
  /** Total tries, the first included. */
  readonly attempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { attempts: 5, initialDelayMs: 200, maxDelayMs: 5_000, multiplier: 2 };

/**
 * Runs `operation` until it succeeds, throws a non-retryable error, or the attempts run out
 * (then the last error is thrown, still marked retryable so the controller requeues).
 * Delays use full jitter so many accounts failing together do not retry in step.
 */
export async function withBackoff<T>(operation: () => Promise<T>, policy: BackoffPolicy = DEFAULT_BACKOFF): Promise<T> {
  let delay = policy.initialDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (e: unknown) {
      if (!isStoreError(e) || !e.retryable || attempt >= policy.attempts) throw e;
    }
    await sleep(Math.random() * delay);
    delay = Math.min(delay * policy.multiplier, policy.maxDelayMs);
  }
}
