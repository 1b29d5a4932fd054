import { describe, expect, it } from 'vitest';
import type { ManagedAccountMfa, VerificationStatus } from '../api/v1alpha1/types.generated.ts';
import { decideVerify, verificationOverdue, verifyIntervalMs } from './verify-schedule.ts';

const HOUR = 3_600_000;
const ENROLLED_AT = '2026-12-01T00:00:00.000Z';
const SETTINGS = { retryBaseSeconds: 30, retryMaxSeconds: 3600 };

function account(
  options: {
    every?: string;
    state?: 'Enabled' | 'Disabled';
    enrolledAt?: string;
    verification?: VerificationStatus;
    uid?: string;
  } = {},
): ManagedAccountMfa {
  const { every = '24h', state = 'Enabled', enrolledAt = ENROLLED_AT, verification, uid = 'uid-1' } = options;
  return {
    metadata: { name: 'acct', namespace: 'team-a', uid },
    spec: {
      connector: 'demo',
      account: { credentialsSecretRef: { name: 'acct-login' } },
      mfa: { state, ...(every ? { verify: { every } } : {}) },
    },
    status: { mfaState: 'Enabled', totp: enrolledAt ? { enrolledAt } : {}, ...(verification ? { verification } : {}) },
  } as ManagedAccountMfa;
}

const at = (iso: string, plusMs = 0) => new Date(Date.parse(iso) + plusMs);

describe('verifyIntervalMs: spec.mfa.verify.every', () => {
  it.each([
    ['24h', 24 * HOUR],
    ['1h', HOUR],
    ['1h30m', 1.5 * HOUR],
    ['90m', 1.5 * HOUR],
    ['168h', 168 * HOUR],
  ])('%s → %d ms', (every, ms) => {
    expect(verifyIntervalMs(every)).toBe(ms);
  });

  it.each(['59m', '', '0h', '1d', '24', '-1h', '1h30s'])('refuses %j, naming the field', (every) => {
    expect(() => verifyIntervalMs(every)).toThrow(/spec\.mfa\.verify\.every must be a duration of at least 1h/);
  });
});

describe('decideVerify: when the next verification is due', () => {
  it.each<[string, ManagedAccountMfa]>([
    ['spec.mfa.verify absent', account({ every: '' })],
    ['spec.mfa.state Disabled', account({ state: 'Disabled' })],
    ['no seed enrolled yet', account({ enrolledAt: '' })],
  ])('off when %s', (_case, mfa) => {
    expect(decideVerify(mfa, at(ENROLLED_AT, 30 * 24 * HOUR), SETTINGS)).toEqual({ kind: 'off' });
  });

  it('is not due before the interval has passed since the enrolment, and due after interval plus jitter (at most a tenth, 1h)', () => {
    const mfa = account();
    const before = decideVerify(mfa, at(ENROLLED_AT, 24 * HOUR - 1), SETTINGS);
    const after = decideVerify(mfa, at(ENROLLED_AT, 25 * HOUR), SETTINGS);

    expect(before.kind).toBe('notDue');
    expect(after).toEqual({ kind: 'due', dueAt: expect.any(Date), slot: ENROLLED_AT });
    const due = (after as { dueAt: Date }).dueAt.getTime() - Date.parse(ENROLLED_AT);
    expect(due).toBeGreaterThanOrEqual(24 * HOUR);
    expect(due).toBeLessThan(25 * HOUR);
  });

  it('counts from the last check when it is later than the enrolment, and names the check by it', () => {
    const lastCheckTime = '2026-12-05T06:00:00.000Z';
    const decision = decideVerify(
      account({ verification: { lastCheckTime, failures: 0 } }),
      at(lastCheckTime, 26 * HOUR),
      SETTINGS,
    );
    expect(decision).toMatchObject({ kind: 'due', slot: lastCheckTime });
  });

  it('spreads accounts enrolled at the same moment, and gives one account the same time on every reconcile', () => {
    const dueOf = (uid: string) =>
      (decideVerify(account({ uid }), at(ENROLLED_AT), SETTINGS) as { dueAt: Date }).dueAt.getTime();
    const times = new Set(Array.from({ length: 20 }, (_, i) => dueOf(`uid-${i}`)));

    expect(times.size).toBeGreaterThan(15);
    expect(dueOf('uid-3')).toBe(dueOf('uid-3'));
    for (const t of times) expect(t - Date.parse(ENROLLED_AT) - 24 * HOUR).toBeLessThan(HOUR);
  });

  it('caps the jitter at a tenth of a short interval', () => {
    for (let i = 0; i < 20; i++) {
      const { dueAt } = decideVerify(account({ every: '1h', uid: `u${i}` }), at(ENROLLED_AT), SETTINGS) as {
        dueAt: Date;
      };
      expect(dueAt.getTime() - Date.parse(ENROLLED_AT) - HOUR).toBeLessThan(HOUR / 10);
    }
  });

  it('after checks that got no answer: backs off exponentially from the last one, without jitter, capped at the interval', () => {
    const lastCheckTime = '2026-12-02T00:00:00.000Z';
    const wait = (failures: number, every = '24h') =>
      (
        decideVerify(account({ every, verification: { lastCheckTime, failures } }), at(lastCheckTime), SETTINGS) as {
          dueAt: Date;
        }
      ).dueAt.getTime() - Date.parse(lastCheckTime);

    expect([wait(1), wait(2), wait(3)]).toEqual([30_000, 60_000, 120_000]);
    expect(wait(20), 'the retry cap').toBe(HOUR);
    expect(wait(20, '1h'), 'never later than the interval').toBe(HOUR);
  });

  it('never asks the app again before its Retry-After, even past the interval', () => {
    const lastCheckTime = '2026-12-02T00:00:00.000Z';
    const mfa = account({ every: '1h', verification: { lastCheckTime, failures: 1 } });

    expect(decideVerify(mfa, at(lastCheckTime, 2 * HOUR - 1), SETTINGS, 7200).kind).toBe('notDue');
    expect(decideVerify(mfa, at(lastCheckTime, 2 * HOUR), SETTINGS, 7200).kind).toBe('due');
  });
});

describe('verificationOverdue: nothing proved the seed for two intervals', () => {
  it('is overdue past two intervals since the last proof, not before', () => {
    const verification = { lastVerifiedTime: '2026-12-02T00:00:00.000Z' };
    expect(verificationOverdue(account({ verification }), at('2026-12-04T00:00:00.000Z'))).toBe(false);
    expect(verificationOverdue(account({ verification }), at('2026-12-04T00:00:00.001Z'))).toBe(true);
  });

  it('counts the enrolment as a proof, and is never overdue when off, disabled or drifted (drift has its own alert)', () => {
    const late = at(ENROLLED_AT, 49 * HOUR);
    expect(verificationOverdue(account(), late)).toBe(true);
    expect(verificationOverdue(account({ every: '' }), late)).toBe(false);
    expect(verificationOverdue(account({ state: 'Disabled' }), late)).toBe(false);
    expect(verificationOverdue(account({ verification: { drift: 'SeedRejected' } }), late)).toBe(false);
  });
});
