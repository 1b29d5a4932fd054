import { beforeEach, describe, expect, it } from 'vitest';
import { apply, DriverFixture, failed, NS } from '../../test/automation/driver-fixture.ts';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import { randomSeed } from '../../test/stores/random-material.ts';
import { neededAction } from './job-driver.ts';
import { accountRef } from '../stores/store-resolver.ts';

const ENROLLED = { mfaState: 'Enabled', totp: { enrolledAt: '2026-11-30T00:00:00Z' } } as const;

function mfaWith(
  state: 'Enabled' | 'Disabled' | undefined,
  status: ManagedAccountMfa['status'],
  rotate?: string,
): ManagedAccountMfa {
  return {
    metadata: {
      name: 'acct',
      namespace: NS,
      ...(rotate !== undefined ? { annotations: { 'mfa-operator.io/rotate': rotate } } : {}),
    },
    spec: {
      connector: 'demo',
      account: { credentialsSecretRef: { name: 'acct-login' } },
      ...(state ? { mfa: { state } } : {}),
    },
    status,
  } as ManagedAccountMfa;
}

describe('neededAction: what must run for the account to reach spec.mfa.state', () => {
  it.each<[string, string | undefined, ManagedAccountMfa]>([
    ['a new account (state defaults to Enabled)', 'enable', mfaWith(undefined, {})],
    [
      'MFA on but no enrolment recorded (a run found MFA already on)',
      'enable',
      mfaWith('Enabled', { mfaState: 'Enabled' }),
    ],
    ['enrolled', undefined, mfaWith('Enabled', ENROLLED)],
    ['enrolled, a rotation asked for', 'rotate', mfaWith('Enabled', ENROLLED, 'r1')],
    [
      'enrolled, that rotation answered',
      undefined,
      mfaWith('Enabled', { ...ENROLLED, totp: { ...ENROLLED.totp, rotatedFor: 'r1' } }, 'r1'),
    ],
    [
      'enrolled, a new rotation after an answered one',
      'rotate',
      mfaWith('Enabled', { ...ENROLLED, totp: { ...ENROLLED.totp, rotatedFor: 'r1' } }, 'r2'),
    ],
    ['enrolled, an empty rotate annotation', undefined, mfaWith('Enabled', ENROLLED, '')],
    ['not enrolled and a rotation asked for: enable first', 'enable', mfaWith('Enabled', {}, 'r1')],
    ['Disabled asked, MFA on', 'disable', mfaWith('Disabled', ENROLLED)],
    ['Disabled asked, MFA on and a rotation asked for: off wins', 'disable', mfaWith('Disabled', ENROLLED, 'r1')],
    ['Disabled asked, MFA already off', undefined, mfaWith('Disabled', { mfaState: 'Disabled' })],
    ['Disabled asked, nothing known (never enabled)', undefined, mfaWith('Disabled', {})],
  ])('%s → %s', (_case, action, mfa) => {
    expect(neededAction(mfa)).toBe(action);
  });
});

let fx: DriverFixture;
beforeEach(() => {
  fx = new DriverFixture();
});

/** The API calls that change something: what the audit log of a step would show besides reads. */
const writes = () => fx.kube.calls.filter((c) => !c.startsWith('get ') && !c.startsWith('list '));
const jobLabel = (name: string, label: string) =>
  fx.kube.jobs().find((j) => j.metadata?.name === name)?.metadata?.labels?.[`mfa-operator.io/${label}`];
const trigger = (name: string) =>
  fx.kube.jobs().find((j) => j.metadata?.name === name)?.metadata?.annotations?.['mfa-operator.io/trigger'];

/** An account whose first enable run just failed with this outcome, harvested, at the fixture's clock. */
async function afterFailedRun(
  outcome: Record<string, unknown>,
  mfa = fx.account(),
): Promise<{ mfa: ManagedAccountMfa; first: string }> {
  await apply(mfa, await fx.driver().step(mfa));
  const first = fx.newestJob('enable');
  fx.kube.finishRun(NS, first, outcome, new Date(fx.now));
  await apply(mfa, await fx.driver().step(mfa));
  fx.kube.calls = [];
  return { mfa, first };
}

describe('JobAutomationDriver.step: which run next', () => {
  it('launches the first run: identity, result Secret, then the Job, and tells it with JobCreated', async () => {
    const mfa = fx.account();

    const step = await fx.driver().step(mfa);

    const job = fx.newestJob('enable');
    expect(writes()).toEqual(
      ['ServiceAccount', 'Role', 'RoleBinding', 'Secret', 'Job'].map((kind) => `create ${kind} ${NS}/${job}`),
    );
    expect(step.conditions).toEqual([
      expect.objectContaining({ type: 'AutomationSucceeded', status: 'Unknown', reason: 'RunInProgress' }),
    ]);
    expect(step.events).toEqual([
      expect.objectContaining({
        type: 'Normal',
        reason: 'JobCreated',
        note: expect.stringContaining('trigger SpecChanged, attempt 1'),
      }),
    ]);
    expect(jobLabel(job, 'attempt')).toBe('1');
  });

  it('while a run is active: RunInProgress, and nothing written', async () => {
    const mfa = fx.account();
    await apply(mfa, await fx.driver().step(mfa));
    fx.kube.calls = [];

    const step = await fx.driver().step(mfa);

    expect(step.conditions).toEqual([
      expect.objectContaining({ reason: 'RunInProgress', message: expect.stringContaining('is turning MFA on') }),
    ]);
    expect(writes()).toEqual([]);
    expect(fx.kube.jobs()).toHaveLength(1);
  });

  it('harvests a finished run before anything else, even when the spec changed meanwhile', async () => {
    const mfa = fx.account();
    await apply(mfa, await fx.driver().step(mfa));
    fx.kube.finishRun(NS, fx.newestJob('enable'), {
      outcome: 'Enabled',
      reason: 'Enabled',
      message: 'on',
      retryable: false,
    });
    mfa.spec.mfa = { state: 'Disabled' };

    const step = await fx.driver().step(mfa);

    expect(step.status?.mfaState).toBe('Enabled');
    expect(fx.kube.jobs()).toHaveLength(1);
  });

  it('with the account where the spec wants it: no conditions, nothing written', async () => {
    const step = await fx.driver().step(fx.account({}, ENROLLED));

    expect(step).toEqual({ conditions: [] });
    expect(fx.kube.calls).toEqual([]);
  });

  it('launches a disable run when spec.mfa.state is Disabled and MFA is on, and a rotation with its own trigger', async () => {
    const off = fx.account({ mfa: { state: 'Disabled' } }, ENROLLED);
    await fx.driver().step(off);
    const rotating = fx.account({}, ENROLLED);
    rotating.metadata.annotations = { 'mfa-operator.io/rotate': 'r1' };
    await fx.driver().step(rotating);

    expect(trigger(fx.newestJob('disable'))).toBe('SpecChanged');
    expect(trigger(fx.newestJob('rotate'))).toBe('Rotate');
  });

  it('after a transient failure: waits out the backoff, saying when, then retries as attempt 2', async () => {
    fx.settings = { ...fx.settings, retryBaseSeconds: 30, retryMaxSeconds: 300, maxAttempts: 3 };
    const { mfa, first } = await afterFailedRun(failed('RateLimited', true));
    fx.now += 10_000;

    const waiting = await fx.driver().step(mfa);

    expect(waiting.requeueAfterMs).toBe(20_000);
    expect(waiting.conditions).toEqual([
      expect.objectContaining({
        status: 'False',
        reason: 'RateLimited',
        message: expect.stringContaining('Retrying in 20s (attempt 2 of 3)'),
      }),
    ]);
    expect(writes()).toEqual([]);
    fx.now += 20_000;
    await fx.driver().step(mfa);
    const retry = fx.newestJob('enable');
    expect(retry).not.toBe(first);
    expect([jobLabel(retry, 'attempt'), trigger(retry)]).toEqual(['2', 'Retry']);
  });

  it('after a permanent failure: says it will not retry, and an edit of the credentials Secret re-arms it', async () => {
    const { mfa } = await afterFailedRun(failed('InvalidCredentials', false));
    fx.now += 86_400_000;

    const stuck = await fx.driver().step(mfa);

    expect(stuck.conditions).toEqual([
      expect.objectContaining({
        status: 'False',
        reason: 'InvalidCredentials',
        message: expect.stringContaining('will not retry until the spec or the credentials Secret changes'),
      }),
    ]);
    expect(stuck.requeueAfterMs).toBeUndefined();
    expect(writes()).toEqual([]);
    fx.credentials = '2';
    await fx.driver().step(mfa);
    expect(jobLabel(fx.newestJob('enable'), 'attempt')).toBe('2');
  });

  it('after maxAttempts transient failures: stops, saying how many failed', async () => {
    fx.settings = { ...fx.settings, maxAttempts: 2 };
    const { mfa } = await afterFailedRun(failed('Timeout', true));
    fx.now += 60_000;
    await apply(mfa, await fx.driver().step(mfa));
    fx.kube.finishRun(NS, fx.newestJob('enable'), failed('Timeout', true), new Date(fx.now));
    await apply(mfa, await fx.driver().step(mfa));
    fx.now += 86_400_000;

    const stuck = await fx.driver().step(mfa);

    expect(stuck.conditions[0]).toMatchObject({
      reason: 'Timeout',
      message: expect.stringContaining('2 attempts failed; the operator will not retry'),
    });
    expect(fx.kube.jobs()).toHaveLength(2);
  });

  it("a new generation starts again at attempt 1, whatever the last generation's failures", async () => {
    const { mfa } = await afterFailedRun(failed('InvalidCredentials', false));
    mfa.metadata.generation = 2;

    const step = await fx.driver().step(mfa);

    const job = fx.newestJob('enable');
    expect(step.events?.[0]?.note).toContain('trigger SpecChanged, attempt 1');
    expect([jobLabel(job, 'generation'), jobLabel(job, 'attempt')]).toEqual(['2', '1']);
  });

  it('waits for capacity when the operator runs its most runs at once, or the connector its most', async () => {
    fx.settings = { ...fx.settings, maxConcurrentRuns: 2, maxConcurrentRunsPerConnector: 1 };
    await fx.driver().step(fx.account({ connector: 'demo' }));
    fx.kube.calls = [];

    const sameApp = await fx.driver().step(fx.account({ connector: 'demo' }));
    await fx.driver().step(fx.account({ connector: 'keycloak' }));
    const full = await fx.driver().step(fx.account({ connector: 'allauth' }));

    expect(sameApp.conditions).toEqual([
      expect.objectContaining({
        status: 'Unknown',
        reason: 'WaitingForCapacity',
        message: expect.stringContaining('maxConcurrentRunsPerConnector'),
      }),
    ]);
    expect(full.conditions).toEqual([
      expect.objectContaining({ reason: 'WaitingForCapacity', message: expect.stringContaining('2 runs are active') }),
    ]);
    expect([sameApp.requeueAfterMs, full.requeueAfterMs]).toEqual([15_000, 15_000]);
    expect(fx.kube.jobs().map((j) => j.metadata?.labels?.['mfa-operator.io/connector'])).toEqual(['demo', 'keycloak']);
  });

  it('starts no run whose credentials Secret is missing or not opted in, and says so on CredentialsValid', async () => {
    fx.credentials = undefined;

    const step = await fx.driver().step(fx.account());

    expect(step.conditions).toEqual([
      expect.objectContaining({
        type: 'CredentialsValid',
        status: 'False',
        message: expect.stringContaining('No run was started.'),
      }),
    ]);
    expect(fx.kube.calls).toEqual([]);
  });
});

describe('JobAutomationDriver.finalize: when the finalizer may go', () => {
  it('Retain with no runs: done, and the store is left as it is', async () => {
    const mfa = fx.account({ deletionPolicy: 'Retain' }, ENROLLED);
    const ref = accountRef(mfa);
    await fx.store.writePendingSeed(ref, randomSeed());

    const step = await fx.driver().finalize(mfa);

    expect(step).toMatchObject({ done: true, conditions: [] });
    expect(await fx.store.readPendingSeed(ref)).toBeDefined();
    expect(fx.kube.calls).toEqual([]);
  });

  it('Disable: done only once its disable run turned MFA off, and then the material is gone', async () => {
    const mfa = fx.account({ deletionPolicy: 'Disable' }, ENROLLED);
    const ref = accountRef(mfa);
    await fx.store.promotePendingSeed(ref, (await fx.store.writePendingSeed(ref, randomSeed())).version);
    mfa.metadata.deletionTimestamp = new Date(fx.now);

    const launched = await fx.driver().finalize(mfa);
    await apply(mfa, launched);
    const run = fx.newestJob('disable');
    expect([launched.done, trigger(run)]).toEqual([false, 'Delete']);
    fx.kube.finishRun(NS, run, { outcome: 'Disabled', reason: 'Disabled', message: 'off', retryable: false });
    const harvested = await fx.driver().finalize(mfa);

    expect(harvested.done).toBe(true);
    expect(await fx.store.readMetadata(ref)).toMatchObject({ active: undefined, pending: undefined });
  });

  it('Disable whose disable run failed: not done, the seed stays, and the retry waits its backoff', async () => {
    const mfa = fx.account({ deletionPolicy: 'Disable' }, ENROLLED);
    const ref = accountRef(mfa);
    await fx.store.promotePendingSeed(ref, (await fx.store.writePendingSeed(ref, randomSeed())).version);
    fx.settings = { ...fx.settings, retryBaseSeconds: 30, retryMaxSeconds: 30 };
    await apply(mfa, await fx.driver().finalize(mfa));
    fx.kube.finishRun(NS, fx.newestJob('disable'), failed('RateLimited', true), new Date(fx.now));

    const harvested = await fx.driver().finalize(mfa);
    await apply(mfa, harvested);
    const waiting = await fx.driver().finalize(mfa);

    expect([harvested.done, waiting.done]).toEqual([false, false]);
    expect(waiting.requeueAfterMs).toBe(30_000);
    expect(await fx.store.readActiveSeed(ref)).toBeDefined();
  });
});
