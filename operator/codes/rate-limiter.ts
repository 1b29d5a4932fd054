import { CodeServiceError } from './code-errors.ts';

export interface RateLimit {
  /** Sustained requests per minute per caller. */
  perMinute: number;
  /** Requests a caller may make at once before the sustained rate applies. */
  burst: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Buckets idle longer than this are full again anyway, so they are dropped. */
const SWEEP_EVERY = 1_000;

/** One token bucket per caller, so one busy script cannot starve the others or flood the API server. */
export class CallerRateLimiter {
  readonly #limit: RateLimit;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();
  #takes = 0;

  constructor(limit: RateLimit, now: () => number = Date.now) {
    if (!(limit.perMinute > 0) || !(limit.burst >= 1)) throw new Error('rate limit needs perMinute > 0 and burst ≥ 1');
    this.#limit = limit;
    this.#now = now;
  }

  /** Takes one token for the caller or throws RateLimited with the seconds until the next one. */
  take(caller: string): void {
    const now = this.#now();
    if (++this.#takes % SWEEP_EVERY === 0) this.#sweep(now);
    const perMs = this.#limit.perMinute / 60_000;
    const bucket = this.#buckets.get(caller) ?? { tokens: this.#limit.burst, updatedAt: now };
    bucket.tokens = Math.min(this.#limit.burst, bucket.tokens + (now - bucket.updatedAt) * perMs);
    bucket.updatedAt = now;
    this.#buckets.set(caller, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return;
    }
    const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
    throw new CodeServiceError('RateLimited',
      `Too many code requests from "${caller}" (limit ${this.#limit.perMinute} a minute, burst ${this.#limit.burst}); retry in ${retryAfter} s.`, retryAfter);
  }

  #sweep(now: number): void {
    const fullAfterMs = this.#limit.burst / (this.#limit.perMinute / 60_000);
    for (const [caller, bucket] of this.#buckets) {
      if (now - bucket.updatedAt > fullAfterMs) this.#buckets.delete(caller);
    }
  }
}
