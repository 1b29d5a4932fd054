import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Secret, TOTP } from 'otpauth';
import { SecretValue } from '../secrets/secret-value.ts';
import type { SecondFactor } from './second-factor.ts';
import type { TotpSeed } from './totp-seed.ts';

/**
 * Codes that an app accepts on the first try. Sites refuse a code reused within its window and
 * a code typed near the window's end may expire before the server checks it, so this waits for
 * the next window in both cases instead of submitting a code that will probably fail.
 */

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now(), sleep: (ms) => sleep(ms) };

/** Time windows already used, per seed (keyed by a hash so the secret itself is not kept). */
export class UsedTotpWindows {
  readonly #lastCounter = new Map<string, number>();

  last(seed: TotpSeed): number | undefined {
    return this.#lastCounter.get(seedKey(seed));
  }

  remember(seed: TotpSeed, counter: number): void {
    this.#lastCounter.set(seedKey(seed), counter);
  }
}

/** One process-wide record, so two code sources for the same seed cannot reuse a window. */
export const processUsedTotpWindows = new UsedTotpWindows();

export interface TotpCodeSourceOptions {
  /** Below this many seconds left in the window, wait for the next one. */
  minRemainingSeconds?: number;
  clock?: Clock;
  usedWindows?: UsedTotpWindows;
}

const DEFAULT_MIN_REMAINING_SECONDS = 5;
/** Lands safely inside the next window despite timer jitter. */
const WINDOW_SETTLE_MS = 50;

export function generateTotpCode(seed: TotpSeed, timestampMs: number): SecretValue<string> {
  return new SecretValue(
    TOTP.generate({
      secret: Secret.fromBase32(seed.secret.reveal()),
      algorithm: seed.algorithm,
      digits: seed.digits,
      period: seed.period,
      timestamp: timestampMs,
    }),
  );
}

export class TotpCodeSource implements SecondFactor {
  readonly #seed: TotpSeed;
  readonly #minRemainingMs: number;
  readonly #clock: Clock;
  readonly #used: UsedTotpWindows;

  constructor(seed: TotpSeed, options: TotpCodeSourceOptions = {}) {
    this.#seed = seed;
    this.#minRemainingMs = (options.minRemainingSeconds ?? DEFAULT_MIN_REMAINING_SECONDS) * 1000;
    this.#clock = options.clock ?? systemClock;
    this.#used = options.usedWindows ?? processUsedTotpWindows;
  }

  async totpCode(): Promise<SecretValue<string>> {
    const periodMs = this.#seed.period * 1000;
    let now = this.#clock.now();
    const wait = this.#waitMs(now, periodMs);
    if (wait > 0) {
      await this.#clock.sleep(wait);
      now = this.#clock.now();
    }
    this.#used.remember(this.#seed, Math.floor(now / periodMs));
    return generateTotpCode(this.#seed, now);
  }

  #waitMs(now: number, periodMs: number): number {
    const counter = Math.floor(now / periodMs);
    const nextWindowStart = (counter + 1) * periodMs;
    const last = this.#used.last(this.#seed);
    const reused = last !== undefined && counter <= last;
    // After waiting for the next window, the next window must not itself be a used one.
    const target = reused ? Math.max(nextWindowStart, (last + 1) * periodMs) : nextWindowStart;
    const nearEdge = nextWindowStart - now < Math.min(this.#minRemainingMs, periodMs / 2);
    return reused || nearEdge ? target - now + WINDOW_SETTLE_MS : 0;
  }
}

function seedKey(seed: TotpSeed): string {
  return createHash('sha256').update(`${seed.algorithm}:${seed.period}:${seed.secret.reveal()}`).digest('hex');
}
