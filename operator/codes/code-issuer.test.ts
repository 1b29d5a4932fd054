import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { UsedTotpWindows, type Clock } from '../../core/totp/totp-codes.ts';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { CodeServiceError } from './code-errors.ts';
import { CodeIssuer } from './code-issuer.ts';
import type { LoginAccount, LoginWindowRecord } from './login-windows.ts';

/** Sleeps end in the order of their deadlines, each moving the time to its own deadline, as real timers do. */
class FakeClock implements Clock {
  time: number;
  readonly sleeps: number[] = [];
  readonly #timers: { until: number; wake: () => void }[] = [];
  constructor(time: number) {
    this.time = time;
  }
  now(): number {
    return this.time;
  }
  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    return new Promise((wake) => {
      this.#timers.push({ until: this.time + ms, wake });
      setImmediate(() => this.#fireEarliest());
    });
  }
  #fireEarliest(): void {
    this.#timers.sort((a, b) => a.until - b.until);
    const timer = this.#timers.shift();
    if (!timer) return;
    this.time = Math.max(this.time, timer.until);
    timer.wake();
  }
}

const SEED: TotpSeed = {
  secret: new SecretValue('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'),
  algorithm: 'SHA256',
  digits: 8,
  period: 30,
};
const WINDOW_START = 30_000 * 60_000_000;

function expectedCode(seed: TotpSeed, timestampMs: number): string {
  return TOTP.generate({
    secret: Secret.fromBase32(seed.secret.reveal()),
    algorithm: seed.algorithm,
    digits: seed.digits,
    period: seed.period,
    timestamp: timestampMs,
  });
}

function issuerAt(time: number, options: { maxLoginWaitSeconds?: number } = {}) {
  const clock = new FakeClock(time);
  return { clock, issuer: new CodeIssuer({ clock, usedWindows: new UsedTotpWindows(), ...options }) };
}

describe('CodeIssuer', () => {
  it('shows the current code with its parameters and the seconds left in the window', async () => {
    const { issuer } = issuerAt(WINDOW_START + 12_400);

    const issued = await issuer.issue(SEED, 'display');

    expect(issued.code.reveal()).toBe(expectedCode(SEED, WINDOW_START + 12_400));
    expect(issued).toMatchObject({ secondsRemaining: 18, period: 30, digits: 8, algorithm: 'SHA256' });
  });

  it('shows the same code to everyone who asks within one window', async () => {
    const { issuer } = issuerAt(WINDOW_START + 1_000);

    const first = await issuer.issue(SEED, 'display');
    const second = await issuer.issue(SEED, 'display');

    expect(second.code.reveal()).toBe(first.code.reveal());
  });

  it('gives a login the current code at once when its window is unused and not ending', async () => {
    const { issuer, clock } = issuerAt(WINDOW_START + 1_000);

    const issued = await issuer.issue(SEED, 'login');

    expect(clock.sleeps).toEqual([]);
    expect(issued.code.reveal()).toBe(expectedCode(SEED, WINDOW_START + 1_000));
  });

  it('makes a second login in the same window wait for the next window and get its code', async () => {
    const { issuer, clock } = issuerAt(WINDOW_START + 1_000);

    const first = await issuer.issue(SEED, 'login');
    const second = await issuer.issue(SEED, 'login');

    expect(clock.time).toBeGreaterThanOrEqual(WINDOW_START + 30_000);
    expect(second.code.reveal()).toBe(expectedCode(SEED, WINDOW_START + 30_000));
    expect(second.code.reveal()).not.toBe(first.code.reveal());
  });

  it('lets a display request see the code a login used (only logins are kept apart)', async () => {
    const { issuer, clock } = issuerAt(WINDOW_START + 1_000);

    const login = await issuer.issue(SEED, 'login');
    const shown = await issuer.issue(SEED, 'display');

    expect(clock.sleeps).toEqual([]);
    expect(shown.code.reveal()).toBe(login.code.reveal());
  });

  it('gives concurrent logins one window each', async () => {
    const { issuer } = issuerAt(WINDOW_START + 1_000, { maxLoginWaitSeconds: 65 });

    const codes = await Promise.all([
      issuer.issue(SEED, 'login'),
      issuer.issue(SEED, 'login'),
      issuer.issue(SEED, 'login'),
    ]);

    expect(codes.map((c) => c.code.reveal())).toEqual(
      [0, 30_000, 60_000].map((offset) => expectedCode(SEED, WINDOW_START + offset)),
    );
  });

  it('does not hand a login a code about to expire', async () => {
    const { issuer, clock } = issuerAt(WINDOW_START + 27_000);

    const issued = await issuer.issue(SEED, 'login');

    expect(clock.time).toBeGreaterThanOrEqual(WINDOW_START + 30_000);
    expect(issued.secondsRemaining).toBe(30);
  });

  it('refuses a login that would wait longer than allowed, with a retry time, and reserves nothing', async () => {
    const { issuer, clock } = issuerAt(WINDOW_START + 1_000, { maxLoginWaitSeconds: 20 });
    await issuer.issue(SEED, 'login');

    await expect(issuer.issue(SEED, 'login')).rejects.toMatchObject({
      reason: 'NextWindowTooFar',
      retryAfterSeconds: 9,
    });
    clock.time = WINDOW_START + 11_000;
    const later = await issuer.issue(SEED, 'login');

    expect(later.code.reveal()).toBe(expectedCode(SEED, WINDOW_START + 30_000));
  });
});

/** One record for every replica, as the Leases are: each reservation sees the one before it. */
class SharedWindows implements LoginWindowRecord {
  handedUntil = 0;
  /** Time a reservation takes to be recorded (an API server under load). */
  delays: number[] = [];
  readonly clock: FakeClock;
  constructor(clock: FakeClock) {
    this.clock = clock;
  }
  async reserve(_account: LoginAccount, choose: (handedUntilMs: number) => number): Promise<number> {
    this.clock.time += this.delays.shift() ?? 0;
    this.handedUntil = choose(this.handedUntil);
    return this.handedUntil;
  }
}

const ACCOUNT: LoginAccount = { namespace: 'team-a', name: 'shared', uid: 'uid-1' };

/** Replicas: each its own process record of windows, all one shared record. */
function replicasAt(time: number) {
  const clock = new FakeClock(time);
  const shared = new SharedWindows(clock);
  const replica = () => new CodeIssuer({ clock, usedWindows: new UsedTotpWindows(), sharedWindows: shared });
  return { clock, shared, replicas: [replica(), replica()] as const };
}

describe('CodeIssuer with a record shared by replicas', () => {
  it('makes a login on another replica wait for the next window', async () => {
    const {
      replicas: [a, b],
    } = replicasAt(WINDOW_START + 1_000);

    const first = await a.issue(SEED, 'login', ACCOUNT);
    const second = await b.issue(SEED, 'login', ACCOUNT);

    expect(first.code.reveal()).toBe(expectedCode(SEED, WINDOW_START + 1_000));
    expect(second.code.reveal()).toBe(expectedCode(SEED, WINDOW_START + 30_000));
  });

  it('keeps seeds of different periods of one account apart: the record is a time, not a window number', async () => {
    const {
      replicas: [a, b],
    } = replicasAt(WINDOW_START + 31_000);

    await a.issue({ ...SEED, period: 60 }, 'login', ACCOUNT);
    const after = await b.issue(SEED, 'login', ACCOUNT);

    // The 60 s window ran to WINDOW_START + 60 s: the 30 s seed's window inside it is taken too.
    expect(after.code.reveal()).toBe(expectedCode(SEED, WINDOW_START + 60_000));
  });

  it('never hands the code of a window that passed while the record was written: it reserves again', async () => {
    const {
      clock,
      shared,
      replicas: [a],
    } = replicasAt(WINDOW_START + 20_000);
    shared.delays = [15_000];

    const issued = await a.issue(SEED, 'login', ACCOUNT);

    expect(shared.handedUntil).toBe(WINDOW_START + 60_000);
    expect(issued.code.reveal()).toBe(expectedCode(SEED, clock.time));
    expect(Math.floor(clock.time / 30_000)).toBe(Math.floor((WINDOW_START + 30_000) / 30_000));
  });

  it('hands no login code when the record cannot be written, and still shows display codes', async () => {
    const clock = new FakeClock(WINDOW_START + 1_000);
    const down = {
      reserve: async () => {
        throw new CodeServiceError('LoginRecordUnavailable', 'down', 5);
      },
    };
    const issuer = new CodeIssuer({ clock, usedWindows: new UsedTotpWindows(), sharedWindows: down });

    await expect(issuer.issue(SEED, 'login', ACCOUNT)).rejects.toMatchObject({
      reason: 'LoginRecordUnavailable',
      status: 503,
    });
    await expect(issuer.issue(SEED, 'display')).resolves.toBeDefined();
  });
});
