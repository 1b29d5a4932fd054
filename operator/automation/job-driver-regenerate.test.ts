import { beforeEach, describe, expect, it } from 'vitest';
import { apply, DriverFixture, failed, NS } from '../../test/automation/driver-fixture.ts';
import { randomRecoveryCodes, randomSeed } from '../../test/stores/random-material.ts';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import { recoveryCodesData } from '../run-contract/result-secret.ts';
import { accountRef } from '../stores/store-resolver.ts';
import { neededAction } from './job-driver.ts';

const ANNOTATION = 'mfa-operator.io/regenerate-recovery-codes';
const ENROLLED_AT = '2026-11-30T00:00:00Z';

/** An enrolled account's status with `used` of its ten stored codes handed out. */
function enrolled(used: number[] = [], extra: { regeneratedFor?: string } = {}): ManagedAccountMfa['status'] {
  return {
    mfaState: 'Enabled',
    totp: { enrolledAt: ENROLLED_AT },
    recoveryCodes: { count: 10, version: '1', used, remaining: 10 - used.length, ...extra },
  };
}

function mfaWith(
  status: ManagedAccountMfa['status'],
  options: { annotation?: string; regenerate?: 'Manual' | 'WhenLow'; lowThreshold?: number; rotate?: string } = {},
): ManagedAccountMfa {
  const annotations = {
    ...(options.annotation !== undefined ? { [ANNOTATION]: options.annotation } : {}),
    ...(options.rotate !== undefined ? { 'mfa-operator.io/rotate': options.rotate } : {}),
  };
  const recoveryCodes = {
    ...(options.regenerate ? { regenerate: options.regenerate } : {}),
    ...(options.lowThreshold !== undefined ? { lowThreshold: options.lowThreshold } : {}),
  };
  return {
    metadata: { name: 'acct', namespace: NS, annotations },
    spec: {
      connector: 'demo',
      account: { credentialsSecretRef: { name: 'acct-login' } },
      mfa: { state: 'Enabled', recoveryCodes },
    },
    status,
  } as ManagedAccountMfa;
}

const LOW = [0, 1, 2, 3, 4, 5, 6, 7];

describe('neededAction: when recovery codes are regenerated', () => {
  it.each<[string, string | undefined, ManagedAccountMfa]>([
    ['enrolled, the annotation set', 'regenerate', mfaWith(enrolled(), { annotation: 'x1' })],
    ['that value answered', undefined, mfaWith(enrolled([], { regeneratedFor: 'x1' }), { annotation: 'x1' })],
    [
      'a new value after an answered one',
      'regenerate',
      mfaWith(enrolled([], { regeneratedFor: 'x1' }), { annotation: 'x2' }),
    ],
    ['an empty annotation', undefined, mfaWith(enrolled(), { annotation: '' })],
    ['not enrolled: enable first', 'enable', mfaWith({}, { annotation: 'x1' })],
    ['a rotation asked for too: the rotation first', 'rotate', mfaWith(enrolled(), { annotation: 'x1', rotate: 'r1' })],
    [
      'MFA to be off: off wins',
      'disable',
      { ...mfaWith(enrolled(), { annotation: 'x1' }), spec: { ...mfaWith({}).spec, mfa: { state: 'Disabled' } } },
    ],
    [
      'WhenLow, 2 of 10 left below threshold 3',
      'regenerate',
      mfaWith(enrolled(LOW), { regenerate: 'WhenLow', lowThreshold: 3 }),
    ],
    ['WhenLow, 2 left and the default threshold (3)', 'regenerate', mfaWith(enrolled(LOW), { regenerate: 'WhenLow' })],
    [
      'WhenLow, 3 left at threshold 3',
      undefined,
      mfaWith(enrolled(LOW.slice(1)), { regenerate: 'WhenLow', lowThreshold: 3 }),
    ],
    [
      'WhenLow, threshold 0 (warning off)',
      undefined,
      mfaWith(enrolled([...LOW, 8, 9]), { regenerate: 'WhenLow', lowThreshold: 0 }),
    ],
    ['Manual (the default), 2 left', undefined, mfaWith(enrolled(LOW), { lowThreshold: 3 })],
    [
      'WhenLow, a fresh set smaller than the threshold (none used): not again and again',
      undefined,
      mfaWith(
        { ...enrolled(), recoveryCodes: { count: 1, version: '2', used: [], remaining: 1 } },
        { regenerate: 'WhenLow', lowThreshold: 3 },
      ),
    ],
    [
      'WhenLow, no codes recorded',
      undefined,
      mfaWith({ ...enrolled(), recoveryCodes: undefined }, { regenerate: 'WhenLow' }),
    ],
    [
      'WhenLow, low but not enrolled',
      'enable',
      mfaWith({ recoveryCodes: enrolled(LOW)!.recoveryCodes }, { regenerate: 'WhenLow' }),
    ],
  ])('%s → %s', (_case, action, mfa) => {
    expect(neededAction(mfa)).toBe(action);
  });
});

let fx: DriverFixture;
beforeEach(() => {
  fx = new DriverFixture();
});

const writes = () => fx.kube.calls.filter((c) => !c.startsWith('get ') && !c.startsWith('list '));
const jobs = (action: string) =>
  fx.kube.jobs().filter((j) => j.metadata?.labels?.['mfa-operator.io/action'] === action);
const annotation = (name: string, key: string) =>
  fx.kube.jobs().find((j) => j.metadata?.name === name)?.metadata?.annotations?.[`mfa-operator.io/${key}`];
const label = (name: string, key: string) =>
  fx.kube.jobs().find((j) => j.metadata?.name === name)?.metadata?.labels?.[`mfa-operator.io/${key}`];
const types = (conditions: readonly { type: string }[]) => conditions.map((c) => c.type);

/** An enrolled account with S0 and ten codes in the store, as the driver's fixture sees it. */
async function account(
  { annotation, ...recoveryCodes }: { annotation?: string; regenerate?: 'WhenLow'; lowThreshold?: number } = {},
  used: number[] = [],
): Promise<ManagedAccountMfa> {
  const mfa = fx.account({ mfa: { state: 'Enabled', recoveryCodes } }, enrolled(used));
  if (annotation !== undefined) mfa.metadata.annotations = { [ANNOTATION]: annotation };
  const ref = accountRef(mfa);
  await fx.store.promotePendingSeed(ref, (await fx.store.writePendingSeed(ref, randomSeed())).version);
  const stored = await fx.store.writeRecoveryCodes(ref, randomRecoveryCodes(10));
  mfa.status!.recoveryCodes!.version = stored.version;
  return mfa;
}

describe('JobAutomationDriver.step: regenerate runs', () => {
  it('the annotation starts one run, tells it with JobCreated, and reports on RecoveryCodesRegenerated only', async () => {
    const mfa = await account({ annotation: 'x1' });

    const step = await fx.driver().step(mfa);

    const [job] = jobs('regenerate');
    const name = job!.metadata!.name!;
    expect(annotation(name, 'trigger')).toBe('RegenerateRecoveryCodes');
    expect(annotation(name, 'regenerate-request')).toBe('requested:x1');
    expect(step.conditions).toEqual([
      expect.objectContaining({ type: 'RecoveryCodesRegenerated', status: 'Unknown', reason: 'RunInProgress' }),
    ]);
    expect(step.events).toEqual([
      expect.objectContaining({
        reason: 'JobCreated',
        note: expect.stringContaining(
          'regenerating the recovery codes on the app (trigger RegenerateRecoveryCodes, attempt 1)',
        ),
      }),
    ]);
    // While it runs: no second Job, and the condition says so.
    fx.kube.calls = [];
    const running = await fx.driver().step(mfa);
    expect(types(running.conditions)).toEqual(['RecoveryCodesRegenerated']);
    expect(writes()).toEqual([]);
  });

  it('WhenLow starts a run with trigger RecoveryCodesLow once fewer than lowThreshold codes are left', async () => {
    const mfa = await account({ regenerate: 'WhenLow', lowThreshold: 3 }, LOW);

    await fx.driver().step(mfa);

    const name = jobs('regenerate')[0]!.metadata!.name!;
    expect(annotation(name, 'trigger')).toBe('RecoveryCodesLow');
    expect(annotation(name, 'regenerate-request')).toBe(`low:${mfa.status!.recoveryCodes!.version}`);
  });

  it('never while another run of the account is active: a rotation asked for at the same time goes first', async () => {
    const mfa = await account({ annotation: 'x1' });
    mfa.metadata.annotations = { ...mfa.metadata.annotations, 'mfa-operator.io/rotate': 'r1' };
    await apply(mfa, await fx.driver().step(mfa));
    expect(jobs('rotate')).toHaveLength(1);
    // The rotation answered in status is not harvested yet: still active.
    delete mfa.metadata.annotations['mfa-operator.io/rotate'];

    await fx.driver().step(mfa);

    expect(jobs('regenerate')).toEqual([]);
  });

  it('waits for capacity like every run', async () => {
    fx.settings = { ...fx.settings, maxConcurrentRuns: 1 };
    const other = fx.account();
    await fx.driver().step(other);
    const mfa = await account({ annotation: 'x1' });

    const step = await fx.driver().step(mfa);

    expect(jobs('regenerate')).toEqual([]);
    expect(step.conditions).toEqual([
      expect.objectContaining({ type: 'RecoveryCodesRegenerated', status: 'Unknown', reason: 'WaitingForCapacity' }),
    ]);
    expect(step.requeueAfterMs).toBeGreaterThan(0);
  });

  it('a WhenLow run that failed backs off, retries as attempt 2, and after maxAttempts waits for a person', async () => {
    fx.settings = { ...fx.settings, retryBaseSeconds: 30, retryMaxSeconds: 300, maxAttempts: 2 };
    const mfa = await account({ regenerate: 'WhenLow', lowThreshold: 3 }, LOW);
    await apply(mfa, await fx.driver().step(mfa));
    const first = jobs('regenerate')[0]!.metadata!.name!;
    fx.kube.finishRun(NS, first, failed('RateLimited', true), new Date(fx.now));
    const harvested = await fx.driver().step(mfa);
    await apply(mfa, harvested);
    expect(harvested.conditions).toEqual([
      expect.objectContaining({ type: 'RecoveryCodesRegenerated', status: 'False', reason: 'RateLimited' }),
    ]);
    expect(mfa.status?.recoveryCodes).toMatchObject({ used: LOW, remaining: 2 });

    fx.now += 10_000;
    const waiting = await fx.driver().step(mfa);
    expect(waiting.requeueAfterMs).toBe(20_000);
    expect(jobs('regenerate')).toHaveLength(1);
    fx.now += 20_000;
    await apply(mfa, await fx.driver().step(mfa));
    const second = jobs('regenerate')[1]!.metadata!.name!;
    expect([label(second, 'attempt'), annotation(second, 'trigger')]).toEqual(['2', 'Retry']);

    fx.kube.finishRun(NS, second, failed('RateLimited', true), new Date(fx.now));
    await apply(mfa, await fx.driver().step(mfa));
    fx.now += 86_400_000;
    fx.kube.calls = [];
    const stuck = await fx.driver().step(mfa);

    expect(stuck.conditions).toEqual([
      expect.objectContaining({
        type: 'RecoveryCodesRegenerated',
        status: 'False',
        message: expect.stringContaining('2 attempts failed; the operator will not retry'),
      }),
    ]);
    expect(stuck.requeueAfterMs).toBeUndefined();
    expect(writes()).toEqual([]);
    expect(types(stuck.conditions)).not.toContain('AutomationSucceeded');
  });

  it('a connector that cannot regenerate: refused once, no run loop, and verifications go on beside it', async () => {
    const mfa = await account({ regenerate: 'WhenLow', lowThreshold: 3 }, LOW);
    mfa.spec.mfa = { ...mfa.spec.mfa, verify: { every: '24h' } };
    mfa.status!.verification = { lastCheckTime: new Date(fx.now).toISOString() };
    await apply(mfa, await fx.driver().step(mfa));
    const first = jobs('regenerate')[0]!.metadata!.name!;
    fx.kube.finishRun(NS, first, failed('RecoveryCodesRegenerationUnsupported', false), new Date(fx.now));
    const harvested = await fx.driver().step(mfa);
    await apply(mfa, harvested);
    expect(harvested.conditions).toEqual([
      expect.objectContaining({
        type: 'RecoveryCodesRegenerated',
        status: 'False',
        reason: 'RecoveryCodesRegenerationUnsupported',
      }),
    ]);

    fx.now += 3_600_000;
    const quiet = await fx.driver().step(mfa);
    expect(quiet.events ?? []).toEqual([]);
    expect(jobs('regenerate')).toHaveLength(1);
    expect(jobs('verify')).toEqual([]);
    fx.now += 26 * 3_600_000;
    const due = await fx.driver().step(mfa);
    expect(jobs('regenerate')).toHaveLength(1);
    expect(jobs('verify')).toHaveLength(1);
    expect(due.conditions).toEqual([
      expect.objectContaining({
        type: 'RecoveryCodesRegenerated',
        status: 'False',
        reason: 'RecoveryCodesRegenerationUnsupported',
        message: expect.stringContaining('will not retry'),
      }),
    ]);
  });

  it('a success replaces the recorded set and answers the request: no second run, even from a status read too early', async () => {
    const mfa = await account({ annotation: 'x1' }, [0, 1, 2]);
    await apply(mfa, await fx.driver().step(mfa));
    const name = jobs('regenerate')[0]!.metadata!.name!;
    fx.runnerWrites(name, recoveryCodesData(randomRecoveryCodes(10)));
    fx.kube.finishRun(
      NS,
      name,
      {
        outcome: 'RecoveryCodesRegenerated',
        reason: 'RecoveryCodesRegenerated',
        message: 'New codes.',
        retryable: false,
      },
      new Date(fx.now),
    );
    const before = structuredClone(mfa);

    const harvested = await fx.driver().step(mfa);
    await apply(mfa, harvested);

    expect(mfa.status?.recoveryCodes).toMatchObject({ count: 10, used: [], remaining: 10, regeneratedFor: 'x1' });
    expect(mfa.status?.recoveryCodes?.version).not.toBe(before.status?.recoveryCodes?.version);
    expect(mfa.status?.history?.[0]).toMatchObject({
      job: name,
      trigger: 'RegenerateRecoveryCodes',
      outcome: 'RecoveryCodesRegenerated',
    });
    expect(harvested.conditions).toContainEqual(
      expect.objectContaining({ type: 'RecoveryCodesRegenerated', status: 'True', reason: 'RecoveryCodesRegenerated' }),
    );
    expect(neededAction(mfa)).toBeUndefined();
    await fx.driver().step(mfa);
    await fx.driver().step(before);
    expect(jobs('regenerate')).toHaveLength(1);
  });

  it('with the credentials Secret not opted in: no run, and the refusal said once though a verification is due too', async () => {
    fx.credentials = undefined;
    const mfa = await account({ annotation: 'x1' });
    mfa.spec.mfa = { ...mfa.spec.mfa, verify: { every: '24h' } };

    const step = await fx.driver().step(mfa);

    expect(fx.kube.jobs()).toEqual([]);
    expect(types(step.conditions)).toEqual(['CredentialsValid']);
  });
});
