import { beforeEach, describe, expect, it } from 'vitest';
import { apply, DriverFixture, failed, NS } from '../../test/automation/driver-fixture.ts';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import { seedData } from '../run-contract/result-secret.ts';
import { randomSeed } from '../../test/stores/random-material.ts';
import { accountRef } from '../stores/store-resolver.ts';
import { neededAction } from './job-driver.ts';

const DAY = 86_400_000;
let fx: DriverFixture;
beforeEach(() => {
  fx = new DriverFixture();
});

const jobsOf = (action: string) =>
  fx.kube.jobs().filter((j) => j.metadata?.labels?.['mfa-operator.io/action'] === action);
const annotation = (name: string, key: string) =>
  fx.kube.jobs().find((j) => j.metadata?.name === name)?.metadata?.annotations?.[`mfa-operator.io/${key}`];
const runSpecOf = (name: string) =>
  JSON.parse(Buffer.from(fx.kube.secret(NS, name)!.data!['run-spec.json']!, 'base64').toString('utf8')) as Record<
    string,
    unknown
  >;

/** An account enrolled at the fixture's clock with a stored seed, verified every 24h. */
async function enrolled(mfa: Partial<NonNullable<ManagedAccountMfa['spec']['mfa']>> = {}): Promise<ManagedAccountMfa> {
  const account = fx.account(
    { mfa: { state: 'Enabled', verify: { every: '24h' }, ...mfa } },
    { mfaState: 'Enabled', totp: { enrolledAt: new Date(fx.now).toISOString() } },
  );
  const ref = accountRef(account);
  await fx.store.promotePendingSeed(ref, (await fx.store.writePendingSeed(ref, randomSeed())).version);
  return account;
}

/** Moves the clock past the next check (interval plus the largest jitter) and runs one step. */
async function stepAfter(mfa: ManagedAccountMfa, ms = DAY + 3_600_000) {
  fx.now += ms;
  const step = await fx.driver().step(mfa);
  await apply(mfa, step);
  return step;
}

/** Launches the due verification and ends it with this outcome; returns the harvest's step. */
async function verification(mfa: ManagedAccountMfa, outcome: Record<string, unknown>) {
  await stepAfter(mfa);
  const name = fx.newestJob('verify');
  fx.kube.finishRun(NS, name, outcome, new Date(fx.now));
  const harvest = await fx.driver().step(mfa);
  await apply(mfa, harvest);
  return { name, harvest };
}

describe('JobAutomationDriver: periodic verification (spec.mfa.verify)', () => {
  it('starts nothing before the check is due, and looks again within the hour', async () => {
    const mfa = await enrolled();

    const early = await stepAfter(mfa, DAY - 1);

    expect(jobsOf('verify')).toEqual([]);
    expect(early.conditions).toEqual([]);
    expect(early.requeueAfterMs).toBeGreaterThan(0);
    expect(early.requeueAfterMs).toBeLessThanOrEqual(3_600_000);
  });

  it('launches a verify Job when due, asking the code service for codes, and changes no condition while it runs', async () => {
    const mfa = await enrolled();

    const launched = await stepAfter(mfa);
    const name = fx.newestJob('verify');
    const running = await fx.driver().step(mfa);

    expect(launched.conditions).toEqual([]);
    expect(launched.events).toEqual([
      expect.objectContaining({ reason: 'JobCreated', note: expect.stringContaining('verifying the stored seed') }),
    ]);
    expect(annotation(name, 'trigger')).toBe('Verify');
    expect(annotation(name, 'verify-slot')).toBe(mfa.status!.totp!.enrolledAt);
    expect(runSpecOf(name)).toMatchObject({ action: 'verify', codeService: { job: name } });
    expect(running.conditions).toEqual([]);
    expect(jobsOf('verify')).toHaveLength(1);
  });

  it('a verified seed: MfaVerified True, the check recorded, and the next one a day later under another name', async () => {
    const mfa = await enrolled();

    const { name, harvest } = await verification(mfa, {
      outcome: 'Verified',
      reason: 'Verified',
      message: 'ok',
      retryable: false,
    });

    expect(harvest.conditions).toContainEqual(
      expect.objectContaining({ type: 'MfaVerified', status: 'True', reason: 'Verified' }),
    );
    expect(
      harvest.conditions.some((c) => c.type === 'AutomationSucceeded'),
      "a verification leaves the enrolment's record alone",
    ).toBe(false);
    expect(mfa.status?.verification).toMatchObject({ lastVerifiedTime: expect.any(String), failures: 0 });
    expect(mfa.status?.history?.[0]).toMatchObject({ job: name, trigger: 'Verify', outcome: 'Verified' });
    expect(fx.metrics.registry.getSingleMetric('mfa_operator_verification_runs_total')).toBeDefined();
    await stepAfter(mfa, 60_000);
    expect(jobsOf('verify')).toHaveLength(1);
    await stepAfter(mfa);
    expect(jobsOf('verify')).toHaveLength(2);
    expect(fx.newestJob('verify')).not.toBe(name);
  });

  it('MFA found off, onDrift Alert: reports MfaTurnedOff and starts no run on the app', async () => {
    const mfa = await enrolled();

    const { harvest } = await verification(mfa, failed('MfaTurnedOff', false));
    const after = await fx.driver().step(mfa);

    expect(harvest.conditions).toContainEqual(
      expect.objectContaining({
        type: 'MfaVerified',
        status: 'False',
        reason: 'MfaTurnedOff',
        message: expect.stringContaining('changes nothing on the app'),
      }),
    );
    expect(mfa.status).toMatchObject({ mfaState: 'Disabled', verification: { drift: 'MfaTurnedOff' } });
    expect(neededAction(mfa)).toBeUndefined();
    expect(after.conditions).toEqual([]);
    expect(jobsOf('enable')).toEqual([]);
  });

  it('MFA found off, onDrift Remediate: an enable run (trigger Remediate) enrols a fresh seed, whose harvest ends the drift', async () => {
    const mfa = await enrolled({ onDrift: 'Remediate' });
    const ref = accountRef(mfa);
    const old = (await fx.store.readActiveSeed(ref))!.seed;

    await verification(mfa, failed('MfaTurnedOff', false));
    await apply(mfa, await fx.driver().step(mfa));
    const enable = fx.newestJob('enable');
    expect(annotation(enable, 'trigger')).toBe('Remediate');
    expect(
      (await fx.store.readActiveSeed(ref))!.seed.secret.reveal(),
      'the old seed stays until the new one is stored',
    ).toBe(old.secret.reveal());
    const fresh = randomSeed();
    fx.runnerWrites(enable, seedData(fresh, 'confirmed'));
    fx.kube.finishRun(
      NS,
      enable,
      { outcome: 'Enabled', reason: 'Enabled', message: 'on', retryable: false },
      new Date(fx.now),
    );
    const harvest = await fx.driver().step(mfa);
    await apply(mfa, harvest);

    expect(mfa.status?.mfaState).toBe('Enabled');
    expect((await fx.store.readActiveSeed(ref))!.seed.secret.reveal()).toBe(fresh.secret.reveal());
    expect(mfa.status?.verification?.drift).toBeUndefined();
    expect(harvest.conditions).toContainEqual(
      expect.objectContaining({ type: 'MfaVerified', status: 'True', reason: 'Enrolled' }),
    );
  });

  it.each(['SeedRejected', 'OtherMfaMethodAdded'])(
    '%s with onDrift Remediate: reported, and nothing is run on the app',
    async (reason) => {
      const mfa = await enrolled({ onDrift: 'Remediate' });

      const { harvest } = await verification(mfa, failed(reason, false));
      await fx.driver().step(mfa);

      expect(harvest.conditions).toContainEqual(
        expect.objectContaining({ type: 'MfaVerified', status: 'False', reason }),
      );
      expect(mfa.status?.mfaState).toBe('Enabled');
      expect(jobsOf('enable')).toEqual([]);
      expect(jobsOf('rotate')).toEqual([]);
    },
  );

  it("a rate-limited check backs off no sooner than the app's Retry-After, never in a loop", async () => {
    fx.settings = { ...fx.settings, retryBaseSeconds: 30, retryMaxSeconds: 3600 };
    const mfa = await enrolled();

    const { harvest } = await verification(mfa, failed('RateLimited', true, { retryAfterSeconds: 600 }));
    const waiting = await stepAfter(mfa, 0);

    expect(harvest.conditions).toEqual([
      expect.objectContaining({ type: 'MfaVerified', status: 'Unknown', reason: 'RateLimited' }),
    ]);
    expect(mfa.status?.verification?.failures).toBe(1);
    expect(waiting.requeueAfterMs).toBe(600_000);
    await stepAfter(mfa, 599_000);
    expect(jobsOf('verify')).toHaveLength(1);
    await stepAfter(mfa, 1_000);
    expect(jobsOf('verify')).toHaveLength(2);
  });

  it('waits for capacity like every run, saying nothing in status', async () => {
    fx.settings = { ...fx.settings, maxConcurrentRunsPerConnector: 1 };
    const busy = fx.account();
    await apply(busy, await fx.driver().step(busy));
    const mfa = await enrolled();

    const waiting = await stepAfter(mfa);

    expect(jobsOf('verify')).toEqual([]);
    expect(waiting).toEqual({ conditions: [], requeueAfterMs: 15_000 });
  });
});

describe('JobAutomationDriver: a verification asked for (annotation mfa-operator.io/verify)', () => {
  const ask = (mfa: ManagedAccountMfa, value: string) => {
    mfa.metadata.annotations = { ...mfa.metadata.annotations, 'mfa-operator.io/verify': value };
  };
  /** One step: launches what is due; returns the newest verify Job's name, if any. */
  async function stepNow(mfa: ManagedAccountMfa) {
    await apply(mfa, await fx.driver().step(mfa));
    return jobsOf('verify').length ? fx.newestJob('verify') : undefined;
  }
  async function finish(mfa: ManagedAccountMfa, name: string, outcome: Record<string, unknown>) {
    fx.kube.finishRun(NS, name, outcome, new Date(fx.now));
    await apply(mfa, await fx.driver().step(mfa));
  }
  const VERIFIED = { outcome: 'Verified', reason: 'Verified', message: 'ok', retryable: false };

  it('runs one check at once, without spec.mfa.verify, records the request answered, and never runs it twice', async () => {
    const mfa = await enrolled({ verify: undefined });
    ask(mfa, '2026-12-03');

    const name = (await stepNow(mfa))!;
    expect(annotation(name, 'trigger')).toBe('VerifyRequested');
    expect(annotation(name, 'verify-slot')).toBe('request:2026-12-03');
    await finish(mfa, name, VERIFIED);

    expect(mfa.status?.verification).toMatchObject({
      requestedFor: '2026-12-03',
      failures: 0,
      lastVerifiedTime: expect.any(String),
    });
    expect(mfa.status?.history?.[0]).toMatchObject({ job: name, trigger: 'VerifyRequested', outcome: 'Verified' });
    fx.now += 30 * DAY;
    await stepNow(mfa);
    expect(jobsOf('verify'), 'an answered request and no schedule: nothing more').toHaveLength(1);
    ask(mfa, '2026-12-04');
    await stepNow(mfa);
    expect(jobsOf('verify')).toHaveLength(2);
  });

  it('keeps the answered request through a scheduled check, and reports drift it finds like any check', async () => {
    const mfa = await enrolled();
    ask(mfa, 'r1');
    await finish(mfa, (await stepNow(mfa))!, failed('OtherMfaMethodAdded', false));
    expect(mfa.status?.verification).toMatchObject({ requestedFor: 'r1', drift: 'OtherMfaMethodAdded' });

    const scheduled = await verification(mfa, VERIFIED);

    expect(annotation(scheduled.name, 'trigger')).toBe('Verify');
    expect(mfa.status?.verification).toMatchObject({ requestedFor: 'r1' });
    expect(mfa.status?.verification?.drift).toBeUndefined();
  });

  it('asks nothing of an account with no seed enrolled yet or meant to be off', async () => {
    const fresh = fx.account({ mfa: { state: 'Enabled' } });
    ask(fresh, 'r1');
    await apply(fresh, await fx.driver().step(fresh));
    const off = await enrolled({ state: 'Disabled' });
    ask(off, 'r1');
    await apply(off, await fx.driver().step(off));

    expect(jobsOf('verify')).toEqual([]);
  });

  it("a request after a rate-limited check still waits for the app's Retry-After", async () => {
    const mfa = await enrolled();
    await verification(mfa, failed('RateLimited', true, { retryAfterSeconds: 600 }));
    ask(mfa, 'now please');

    const waiting = await fx.driver().step(mfa);

    expect(jobsOf('verify')).toHaveLength(1);
    expect(waiting.requeueAfterMs).toBe(600_000);
    fx.now += 600_000;
    expect(await stepNow(mfa)).toBeDefined();
    expect(jobsOf('verify')).toHaveLength(2);
    expect(annotation(fx.newestJob('verify'), 'trigger')).toBe('VerifyRequested');
  });

  it("a value longer than status can hold is recorded as its digest, within the schema's 256 characters, and answered once", async () => {
    const mfa = await enrolled({ verify: undefined });
    const long = 'x'.repeat(5_000);
    ask(mfa, long);

    await finish(mfa, (await stepNow(mfa))!, VERIFIED);
    await stepNow(mfa);

    expect(mfa.status?.verification?.requestedFor).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(mfa.status!.verification!.requestedFor!.length).toBeLessThanOrEqual(256);
    expect(jobsOf('verify')).toHaveLength(1);
  });
});
