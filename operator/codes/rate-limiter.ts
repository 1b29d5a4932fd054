import { CodeServiceError } from './code-errors.ts';

export interface RateLimit {
  /** Sustained requests per minute per key. */
  perMinute: number;
  /** Requests a key may make at once before the sustained rate applies. */
  burst: number;
}

export interface RateLimiterOptions {
  /** How a refusal names what was limited, e.g. `code requests from "alice"`. */
  describe: (key: string) => string;
  /** Most keys tracked at once; the least recently used bucket goes first. */
  maxKeys?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

const DEFAULT_MAX_KEYS = 10_000;

/**
 * One token bucket per key (a caller, a source address, or one key for a global limit). The map
 * is bounded: a flood of distinct keys evicts the least recently used buckets instead of growing
 * memory. An evicted bucket comes back full, so eviction only ever errs towards serving.
 */
export class RateLimiter {
  readonly #limit: RateLimit;
  readonly #describe: (key: string) => string;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(limit: RateLimit, options: RateLimiterOptions) {
    if (!(limit.perMinute > 0) || !(limit.burst >= 1)) throw new Error('rate limit needs perMinute > 0 and burst ≥ 1');
    this.#limit = limit;
    this.#describe = options.describe;
    this.#maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    this.#now = options.now ?? Date.now;
  }

  /** Takes one token for the key or throws RateLimited with the seconds until the next one. */
  take(key: string): void {
    const now = this.#now();
    const perMs = this.#limit.perMinute / 60_000;
    const bucket = this.#buckets.get(key) ?? { tokens: this.#limit.burst, updatedAt: now };
    bucket.tokens = Math.min(this.#limit.burst, bucket.tokens + (now - bucket.updatedAt) * perMs);
    bucket.updatedAt = now;
    // Re-inserted so that the Map's order is least recently used first.
    this.#buckets.delete(key);
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > this.#maxKeys) this.#buckets.delete(this.#buckets.keys().next().value as string);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return;
    }
    const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
    throw new CodeServiceError(
      'RateLimited',
      `Too many ${this.#describe(key)} (limit ${this.#limit.perMinute} a minute, burst ${this.#limit.burst}); retry in ${retryAfter} s.`,
      retryAfter,
    );
  }

  /** Buckets currently tracked (for tests of the bound). */
  get size(): number {
    return this.#buckets.size;
  }
}

/**
 * The key a source address is limited under: IPv4 as is (also when IPv4-mapped), IPv6 by its /64,
 * because one host commonly holds a whole /64 and could otherwise rotate through it.
 */
export function sourceKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.split('%')[0]!.toLowerCase().split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = address.includes('::') && tail ? tail.split(':') : [];
  const zeros = Array<string>(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill('0');
  const groups = [...headGroups, ...zeros, ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
