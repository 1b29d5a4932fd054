import { generateTotpCode, processUsedTotpWindows, systemClock, type Clock, type UsedTotpWindows } from '../../core/totp/totp-codes.ts';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import type { SecretValue } from '../../core/secrets/secret-value.ts';
import { CodeServiceError } from './code-errors.ts';

/**
 * `display`: the current code, for a person who reads it off a screen (the same code may be shown
 * to many). `login`: for an automated login that will submit it; never the code of a window
 * already handed out for a login, and never one about to expire.
 */
export type CodePurpose = 'display' | 'login';

export interface IssuedCode {
  readonly code: SecretValue<string>;
  readonly secondsRemaining: number;
  readonly period: number;
  readonly digits: number;
  readonly algorithm: string;
}

export interface CodeIssuerOptions {
  /** A login code with less time left than this waits for the next window. Default 5 s. */
  minLoginRemainingSeconds?: number;
  /** Longest a login code request waits for an unused window before it is refused. Default 35 s. */
  maxLoginWaitSeconds?: number;
  clock?: Clock;
  /** Windows handed out for logins; shared with the connectors' code sources in this process. */
  usedWindows?: UsedTotpWindows;
}

/** Lands safely inside the next window despite timer jitter (as the connectors' code source does). */
const WINDOW_SETTLE_MS = 50;

/** Generates codes from a seed: the one place where the operator turns a seed into a code. */
export class CodeIssuer {
  readonly #minLoginRemainingMs: number;
  readonly #maxLoginWaitMs: number;
  readonly #clock: Clock;
  readonly #used: UsedTotpWindows;

  constructor(options: CodeIssuerOptions = {}) {
    this.#minLoginRemainingMs = (options.minLoginRemainingSeconds ?? 5) * 1000;
    this.#maxLoginWaitMs = (options.maxLoginWaitSeconds ?? 35) * 1000;
    this.#clock = options.clock ?? systemClock;
    this.#used = options.usedWindows ?? processUsedTotpWindows;
  }

  async issue(seed: TotpSeed, purpose: CodePurpose): Promise<IssuedCode> {
    let now = this.#clock.now();
    if (purpose === 'login') {
      const startsAt = this.#reserveLoginWindow(seed, now);
      if (startsAt > now) {
        await this.#clock.sleep(startsAt - now + WINDOW_SETTLE_MS);
        now = Math.max(this.#clock.now(), startsAt);
      }
    }
    return this.#codeAt(seed, now);
  }

  /**
   * Picks the first window that was not handed out for a login and is not about to end, and
   * records it before waiting, so concurrent logins for one seed each get their own window.
   */
  #reserveLoginWindow(seed: TotpSeed, now: number): number {
    const periodMs = seed.period * 1000;
    const counter = Math.floor(now / periodMs);
    const nearEdge = (counter + 1) * periodMs - now < Math.min(this.#minLoginRemainingMs, periodMs / 2);
    const last = this.#used.last(seed);
    const target = Math.max(nearEdge ? counter + 1 : counter, last === undefined ? counter : last + 1);
    const startsAt = target * periodMs;
    if (startsAt - now > this.#maxLoginWaitMs) {
      const retryAfter = Math.ceil((startsAt - now - this.#maxLoginWaitMs) / 1000) || 1;
      throw new CodeServiceError('NextWindowTooFar',
        `Every code up to ${Math.ceil((startsAt - now) / 1000)} s from now was already used for a login; retry later.`, retryAfter);
    }
    this.#used.remember(seed, target);
    return startsAt;
  }

  #codeAt(seed: TotpSeed, now: number): IssuedCode {
    const periodMs = seed.period * 1000;
    const remainingMs = (Math.floor(now / periodMs) + 1) * periodMs - now;
    return {
      code: generateTotpCode(seed, now),
      secondsRemaining: Math.ceil(remainingMs / 1000),
      period: seed.period,
      digits: seed.digits,
      algorithm: seed.algorithm,
    };
  }
}
