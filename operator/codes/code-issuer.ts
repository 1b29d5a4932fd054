import {
  generateTotpCode,
  processUsedTotpWindows,
  systemClock,
  type Clock,
  type UsedTotpWindows,
} from '../../core/totp/totp-codes.ts';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import type { SecretValue } from '../../core/secrets/secret-value.ts';
import { CodeServiceError } from './code-errors.ts';
import type { LoginAccount, LoginWindowRecord } from './login-windows.ts';

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
  /**
   * Windows handed out for logins by every replica (LeaseLoginWindows); consulted for each login code of an account.
   * Without it only this process's record is kept, which is enough for one process (tests, kubectl mfa --direct).
   */
  sharedWindows?: LoginWindowRecord;
}

/** Lands safely inside the next window despite timer jitter (as the connectors' code source does). */
const WINDOW_SETTLE_MS = 50;
/** Reservations tried when each one's window ended before the record answered. */
const RESERVE_ATTEMPTS = 3;

/** Generates codes from a seed: the one place where the operator turns a seed into a code. */
export class CodeIssuer {
  readonly #minLoginRemainingMs: number;
  readonly #maxLoginWaitMs: number;
  readonly #clock: Clock;
  readonly #used: UsedTotpWindows;
  readonly #shared: LoginWindowRecord | undefined;

  constructor(options: CodeIssuerOptions = {}) {
    this.#minLoginRemainingMs = (options.minLoginRemainingSeconds ?? 5) * 1000;
    this.#maxLoginWaitMs = (options.maxLoginWaitSeconds ?? 35) * 1000;
    this.#clock = options.clock ?? systemClock;
    this.#used = options.usedWindows ?? processUsedTotpWindows;
    this.#shared = options.sharedWindows;
  }

  /** `account` names whose logins share the record of handed windows; a login code needs it. */
  async issue(seed: TotpSeed, purpose: CodePurpose, account?: LoginAccount): Promise<IssuedCode> {
    if (purpose === 'display') return this.#codeAt(seed, this.#clock.now());
    for (let attempt = 0; attempt < RESERVE_ATTEMPTS; attempt++) {
      const startsAt = await this.#reserveLoginWindow(seed, account);
      let now = this.#clock.now();
      if (startsAt > now) {
        await this.#clock.sleep(startsAt - now + WINDOW_SETTLE_MS);
        now = Math.max(this.#clock.now(), startsAt);
      }
      // The code is the reserved window's or none: a record slow to write may have let that window pass.
      if (now < startsAt + seed.period * 1000) return this.#codeAt(seed, now);
    }
    throw new CodeServiceError(
      'LoginRecordUnavailable',
      'The record of handed-out login codes answered too slowly for the window it reserved; retry.',
      1,
    );
  }

  /**
   * Picks the first window that was not handed out for a login (by this process, or by any replica through the shared
   * record) and is not about to end, and records it before waiting, so concurrent logins each get their own window.
   */
  async #reserveLoginWindow(seed: TotpSeed, account: LoginAccount | undefined): Promise<number> {
    const periodMs = seed.period * 1000;
    let target: number;
    if (this.#shared) {
      if (!account) throw new Error('a login code needs the account whose handed windows it must avoid');
      target =
        (await this.#shared.reserve(
          account,
          (handedUntil) => (this.#firstFreeWindow(seed, Math.ceil(handedUntil / periodMs)) + 1) * periodMs,
        )) /
          periodMs -
        1;
    } else {
      target = this.#firstFreeWindow(seed, 0);
    }
    // Never lowered: a slower request must not make an earlier window look free again.
    const last = this.#used.last(seed);
    if (last === undefined || target > last) this.#used.remember(seed, target);
    return target * periodMs;
  }

  /** The first window (counter) at or after `notBefore` that this process did not hand out and that is not about to end. */
  #firstFreeWindow(seed: TotpSeed, notBefore: number): number {
    const now = this.#clock.now();
    const periodMs = seed.period * 1000;
    const counter = Math.floor(now / periodMs);
    const nearEdge = (counter + 1) * periodMs - now < Math.min(this.#minLoginRemainingMs, periodMs / 2);
    const last = this.#used.last(seed);
    const target = Math.max(nearEdge ? counter + 1 : counter, last === undefined ? counter : last + 1, notBefore);
    const startsAt = target * periodMs;
    if (startsAt - now > this.#maxLoginWaitMs) {
      const retryAfter = Math.ceil((startsAt - now - this.#maxLoginWaitMs) / 1000) || 1;
      throw new CodeServiceError(
        'NextWindowTooFar',
        `Every code up to ${Math.ceil((startsAt - now) / 1000)} s from now was already used for a login; retry later.`,
        retryAfter,
      );
    }
    return target;
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
