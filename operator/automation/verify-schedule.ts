import { createHash } from 'node:crypto';
import type { ManagedAccountMfa, VerificationStatus } from '../api/v1alpha1/types.generated.ts';
import { requestRecord, VERIFY_ANNOTATION } from './run-names.ts';
import type { RunnerSettings } from './runner-settings.ts';

export type VerifyDecision =
  | { kind: 'off' }
  | { kind: 'notDue'; dueAt: Date }
  /**
   * `slot` names the check (its base time, or `request:` and the annotation's value), so a repeated reconcile finds the
   * same Job; `requested` is set for a check the annotation asked for.
   */
  | { kind: 'due'; dueAt: Date; slot: string; requested?: true };

/** The slot of a requested check: its own names, never one of the schedule's (an ISO time). */
const REQUEST_SLOT_PREFIX = 'request:';

/** Bounds of the jitter: a tenth of the interval, at most an hour. */
const JITTER_SHARE = 0.1;
const JITTER_MAX_MS = 3_600_000;

export class InvalidVerifyIntervalError extends Error {
  readonly reason = 'InvalidVerifyInterval';
}

/** spec.mfa.verify.every in milliseconds; the schema allows only hours and minutes, at least 1h. */
export function verifyIntervalMs(every: string): number {
  const match = /^(?:(\d{1,5})h)?(?:(\d{1,5})m)?$/.exec(every);
  const ms = match ? (Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0)) * 60_000 : 0;
  if (ms < 3_600_000)
    throw new InvalidVerifyIntervalError(
      `spec.mfa.verify.every must be a duration of at least 1h, such as 24h or 1h30m; got ${JSON.stringify(every)}`,
    );
  return ms;
}

/**
 * When the next verification is due, from status alone (level-based). A check is counted from the later of the last
 * check and the enrolment (an enrolment proves the seed). After a check that got no answer (rate limited, timed out),
 * the next one backs off exponentially, never sooner than the app's Retry-After and never later than the interval;
 * otherwise it waits the interval plus a jitter fixed per account and check, so accounts enrolled together spread out.
 *
 * | spec.mfa.verify | state    | seed enrolled | failures in a row | due at                                              |
 * |-----------------|----------|---------------|-------------------|-----------------------------------------------------|
 * | absent          | any      | any           | any               | never (off)                                         |
 * | set             | Disabled | any           | any               | never (off)                                         |
 * | set             | Enabled  | no            | any               | never (the enable run comes first)                  |
 * | set             | Enabled  | yes           | 0                 | base + every + jitter                               |
 * | set             | Enabled  | yes           | n > 0             | base + max(min(backoff(n), every), Retry-After)     |
 */
export function decideVerify(
  mfa: ManagedAccountMfa,
  now: Date,
  settings: Pick<RunnerSettings, 'retryBaseSeconds' | 'retryMaxSeconds'>,
  retryAfterSeconds = 0,
): VerifyDecision {
  const requested = requestedVerify(mfa, now, retryAfterSeconds);
  if (requested) return requested;
  const schedule = scheduleOf(mfa);
  if (!schedule) return { kind: 'off' };
  const { interval, enrolledAt, verification } = schedule;
  const base = latest(enrolledAt, verification.lastCheckTime);
  const failures = verification.failures ?? 0;
  const wait =
    failures > 0
      ? Math.max(Math.min(backoffMs(failures, settings), interval), retryAfterSeconds * 1000)
      : interval + jitterMs(mfa.metadata.uid ?? '', base, interval);
  const dueAt = new Date(base.getTime() + wait);
  return now.getTime() >= dueAt.getTime()
    ? { kind: 'due', dueAt, slot: base.toISOString() }
    : { kind: 'notDue', dueAt };
}

/**
 * Whether verification is overdue: on, enrolled, and nothing proved the seed for two intervals (a missed check and
 * then some). Drift is not overdue: it was verified, with a bad answer.
 */
export function verificationOverdue(mfa: ManagedAccountMfa, now: Date): boolean {
  let schedule: ReturnType<typeof scheduleOf>;
  try {
    schedule = scheduleOf(mfa);
  } catch (e: unknown) {
    if (e instanceof InvalidVerifyIntervalError) return false;
    throw e;
  }
  if (!schedule || schedule.verification.drift) return false;
  return (
    now.getTime() - latest(schedule.enrolledAt, schedule.verification.lastVerifiedTime).getTime() >
    2 * schedule.interval
  );
}

/**
 * A check the annotation mfa-operator.io/verify asks for: due now while its value is not the one status says was
 * answered, with or without spec.mfa.verify, once a seed is enrolled and MFA is meant to be on. After a check that got
 * no answer it still waits for the app's Retry-After: a request never hammers an app that asked for time.
 */
function requestedVerify(mfa: ManagedAccountMfa, now: Date, retryAfterSeconds: number): VerifyDecision | undefined {
  const value = pendingVerifyRequest(mfa);
  if (value === undefined) return undefined;
  const verification = mfa.status?.verification ?? {};
  const last = verification.lastCheckTime;
  const notBefore = (verification.failures ?? 0) > 0 && last ? new Date(last).getTime() + retryAfterSeconds * 1000 : 0;
  const dueAt = new Date(Math.max(now.getTime(), notBefore));
  return now.getTime() >= notBefore
    ? { kind: 'due', dueAt, slot: `${REQUEST_SLOT_PREFIX}${value}`, requested: true }
    : { kind: 'notDue', dueAt };
}

/** The annotation's value while it asks for a check status has not answered; undefined when there is nothing to check. */
function pendingVerifyRequest(mfa: ManagedAccountMfa): string | undefined {
  const value = mfa.metadata.annotations?.[VERIFY_ANNOTATION];
  const { spec, status } = mfa;
  if (!value || (spec.mfa?.state ?? 'Enabled') !== 'Enabled' || !status?.totp?.enrolledAt) return undefined;
  return requestRecord(value) === status.verification?.requestedFor ? undefined : value;
}

/** For a verify Job's slot: the record of the request it answers (status.verification.requestedFor), if it was one. */
export function answeredVerifyRequest(slot: string | undefined): string | undefined {
  return slot?.startsWith(REQUEST_SLOT_PREFIX) ? requestRecord(slot.slice(REQUEST_SLOT_PREFIX.length)) : undefined;
}

/** The verification's interval and what status says of it; undefined when verification is off (or nothing is enrolled). */
function scheduleOf(
  mfa: ManagedAccountMfa,
): { interval: number; enrolledAt: string; verification: VerificationStatus } | undefined {
  const { spec, status } = mfa;
  const every = spec.mfa?.verify?.every;
  const enrolledAt = status?.totp?.enrolledAt;
  if (!every || (spec.mfa?.state ?? 'Enabled') !== 'Enabled' || !enrolledAt) return undefined;
  return { interval: verifyIntervalMs(every), enrolledAt, verification: status?.verification ?? {} };
}

/** A fixed fraction of the jitter window per account and base time: the same on every reconcile and replica. */
function jitterMs(uid: string, base: Date, interval: number): number {
  const fraction = createHash('sha256').update(`${uid}/${base.toISOString()}`).digest().readUInt32BE(0) / 2 ** 32;
  return Math.floor(fraction * Math.min(interval * JITTER_SHARE, JITTER_MAX_MS));
}

function backoffMs(failures: number, settings: Pick<RunnerSettings, 'retryBaseSeconds' | 'retryMaxSeconds'>): number {
  return Math.min(settings.retryMaxSeconds, settings.retryBaseSeconds * 2 ** (failures - 1)) * 1000;
}

function latest(first: string, second: string | undefined): Date {
  const a = new Date(first);
  const b = second ? new Date(second) : undefined;
  return b && b.getTime() > a.getTime() ? b : a;
}
