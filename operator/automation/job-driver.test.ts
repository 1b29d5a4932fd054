import { beforeEach, describe, expect, it } from 'vitest';
import { apply, CODE_SERVICE, DriverFixture, failed, NS } from '../../test/automation/driver-fixture.ts';
import type { InMemoryKube } from '../../test/automation/in-memory-kube.ts';
import type { InMemoryStore } from '../../test/automation/in-memory-store.ts';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import { randomRecoveryCodes, randomSeed } from '../../test/stores/random-material.ts';
import type { AccountRef } from '../stores/provider.ts';
import type { JobAutomationDriver } from './job-driver.ts';
import { adoptedSlotData, recoveryCodesData, seedData } from '../run-contract/result-secret.ts';
import { runObjects } from './run-objects.ts';
import { accountRef } from '../stores/store-resolver.ts';

let fx: DriverFixture;
let kube: InMemoryKube;
let store: InMemoryStore;
let driver: JobAutomationDriver;

beforeEach(() => {
  fx = new DriverFixture();
  ({ kube, store } = fx);
  driver = fx.driver();
});

/** Every value of the run's result Secret (decoded) and its Job, as one text: where a leaked seed would show. */
function runObjectsText(name: string): string {
  const secret = kube.secret(NS, name)!;
  const decoded = Object.values(secret.data ?? {}).map((v) => Buffer.from(v, 'base64').toString('utf8'));
  const job = kube.jobs().find((j) => j.metadata?.name === name);
  return [...decoded, JSON.stringify(secret), JSON.stringify(job)].join('\n');
}

function expectNoSeedIn(name: string, ...seeds: TotpSeed[]): void {
  const text = runObjectsText(name);
  for (const seed of seeds)
    expect(text.includes(seed.secret.reveal()), "a stored seed is in the run's result Secret or Job").toBe(false);
  expect(Object.keys(kube.secret(NS, name)!.data ?? {})).toEqual(['run-spec.json']);
}

/** An account enrolled with S0 whose rotation was just asked for, and the S1 a rotation would bring. */
async function enrolledWithRotationAsked(): Promise<{
  S0: TotpSeed;
  S1: TotpSeed;
  mfa: ManagedAccountMfa;
  ref: AccountRef;
}> {
  const S0 = randomSeed();
  const S1 = randomSeed();
  const mfa = fx.account({}, { mfaState: 'Enabled', totp: { enrolledAt: '2026-11-30T00:00:00Z' } });
  mfa.metadata.annotations = { 'mfa-operator.io/rotate': 'r1' };
  const ref = accountRef(mfa);
  await store.promotePendingSeed(ref, (await store.writePendingSeed(ref, S0)).version);
  return { S0, S1, mfa, ref };
}

describe('JobAutomationDriver: a rotation retry keeps the new seed (issue 11, item 1)', () => {
  it('hands a retry no seed (it asks the code service), and its harvest never erases the pending new seed', async () => {
    const { S0, S1, mfa, ref } = await enrolledWithRotationAsked();

    // Attempt 1 turned MFA off with S0, enrolled S1 (stored as pending, confirmed on the app), then lost its result Secret.
    await apply(mfa, await driver.step(mfa));
    const first = fx.newestJob('rotate');
    fx.runnerWrites(first, seedData(S1, 'pending'));
    kube.finishRun(NS, first, failed('SinkUnavailable', true));
    await apply(mfa, await driver.step(mfa));
    expect((await store.readPendingSeed(ref))?.seed.secret.reveal()).toBe(S1.secret.reveal());

    // The retry: the app now requires S1, which the retry must be able to try; here it fails without writing anything.
    fx.now += 60_000;
    await apply(mfa, await driver.step(mfa));
    const retry = fx.newestJob('rotate');
    expect(retry).not.toBe(first);
    expectNoSeedIn(retry, S0, S1);
    expect(JSON.parse(runObjectsText(retry).split('\n')[0]!).codeService).toMatchObject({
      url: CODE_SERVICE.url,
      caBundle: 'PEM',
      namespace: NS,
      job: retry,
    });
    kube.finishRun(NS, retry, failed('InvalidCredentials', false));
    await apply(mfa, await driver.step(mfa));

    expect(
      (await store.readPendingSeed(ref))?.seed.secret.reveal(),
      'S1, which the app requires, is still in the store',
    ).toBe(S1.secret.reveal());
    expect((await store.readActiveSeed(ref))?.seed.secret.reveal()).toBe(S0.secret.reveal());
  });

  it('promotes the pending new seed when a retry reports it adopted the pending slot', async () => {
    const { S1, mfa, ref } = await enrolledWithRotationAsked();
    await store.writePendingSeed(ref, S1);

    await apply(mfa, await driver.step(mfa));
    const run = fx.newestJob('rotate');
    fx.runnerWrites(run, adoptedSlotData('pending'));
    kube.finishRun(NS, run, { outcome: 'Adopted', reason: 'Adopted', message: 'adopted', retryable: false });
    await apply(mfa, await driver.step(mfa));

    expect((await store.readActiveSeed(ref))?.seed.secret.reveal()).toBe(S1.secret.reveal());
    expect(await store.readPendingSeed(ref)).toBeUndefined();
    expect(mfa.status?.totp?.rotatedFor).toBe('r1');
  });
});

describe('JobAutomationDriver.finalize: deletion never drops a seed the app may require (issue 11, item 2)', () => {
  for (const deletionPolicy of ['Retain', 'Disable'] as const) {
    it(`${deletionPolicy}: harvests a finished, unharvested run before the finalizer may go`, async () => {
      const S1 = randomSeed();
      const mfa = fx.account({ deletionPolicy });
      const ref = accountRef(mfa);
      await apply(mfa, await driver.step(mfa));
      const run = fx.newestJob('enable');
      fx.runnerWrites(run, { ...seedData(S1, 'confirmed'), ...recoveryCodesData(randomRecoveryCodes()) });
      kube.finishRun(NS, run, { outcome: 'Enabled', reason: 'Enabled', message: 'on', retryable: false });
      mfa.metadata.deletionTimestamp = new Date(fx.now);

      const first = await driver.finalize(mfa);

      expect(first.done).toBe(false);
      expect((await store.readActiveSeed(ref))?.seed.secret.reveal()).toBe(S1.secret.reveal());
      expect(kube.secret(NS, run), 'the result Secret goes only after status is written').toBeDefined();
      await apply(mfa, first);
      expect(kube.secret(NS, run)).toBeUndefined();
      const second = await driver.finalize(mfa);
      if (deletionPolicy === 'Retain') {
        expect(second.done).toBe(true);
        expect((await store.readActiveSeed(ref))?.seed.secret.reveal()).toBe(S1.secret.reveal());
      } else {
        // MFA is on with S1: Disable turns it off with S1 before anything is deleted.
        expect(second.done).toBe(false);
        expectNoSeedIn(fx.newestJob('disable'), S1);
        expect(await store.readActiveSeed(ref)).toBeDefined();
      }
    });

    it(`${deletionPolicy}: waits for an active run`, async () => {
      const mfa = fx.account({ deletionPolicy });
      await apply(mfa, await driver.step(mfa));
      mfa.metadata.deletionTimestamp = new Date(fx.now);

      const step = await driver.finalize(mfa);

      expect(step.done).toBe(false);
      expect(step.conditions[0]).toMatchObject({ reason: 'RunInProgress' });
      expect(step.requeueAfterMs).toBeGreaterThan(0);
    });
  }

  it('Disable with status not Enabled but a pending seed in the store: turns MFA off first instead of deleting the seed', async () => {
    const S1 = randomSeed();
    const mfa = fx.account({ deletionPolicy: 'Disable' });
    const ref = accountRef(mfa);
    // An enable run that failed after the app turned MFA on (its confirmation was not recorded) left S1 pending.
    await store.writePendingSeed(ref, S1);
    mfa.metadata.deletionTimestamp = new Date(fx.now);

    const step = await driver.finalize(mfa);
    await apply(mfa, step);

    expect(step.done).toBe(false);
    expect((await store.readPendingSeed(ref))?.seed.secret.reveal()).toBe(S1.secret.reveal());
    expectNoSeedIn(fx.newestJob('disable'), S1);
  });

  it('Disable with nothing stored: done, and nothing is left', async () => {
    const mfa = fx.account({ deletionPolicy: 'Disable' });
    mfa.metadata.deletionTimestamp = new Date(fx.now);

    const step = await driver.finalize(mfa);

    expect(step.done).toBe(true);
    expect(kube.jobs()).toEqual([]);
  });
});

describe('JobAutomationDriver without a code service for runs (issue 11, item 8)', () => {
  it('starts no run that may need a stored seed, and says which flag is missing', async () => {
    const { mfa } = await enrolledWithRotationAsked();

    const step = await fx.driver({}).step(mfa);

    expect(kube.jobs()).toEqual([]);
    expect(step.conditions).toEqual([
      expect.objectContaining({ type: 'AutomationSucceeded', status: 'False', reason: 'CodeServiceRequired' }),
    ]);
    expect(step.conditions[0]!.message).toContain('--code-service-run-url');
  });

  it('still starts a first enable: nothing is stored, so no run needs a code', async () => {
    const mfa = fx.account();

    await apply(mfa, await fx.driver({}).step(mfa));

    const run = fx.newestJob('enable');
    expect(JSON.parse(runObjectsText(run).split('\n')[0]!).codeService).toBeUndefined();
  });
});

describe('run objects', () => {
  it('the result Secret is not owned by the resource, so no garbage collector deletes it before the harvest', () => {
    const mfa = fx.account();
    const objects = runObjects({
      mfa,
      trigger: 'SpecChanged',
      settings: fx.settings,
      run: { accountName: 'acct', accountUid: mfa.metadata.uid!, action: 'enable', generation: 1, attempt: 1 },
    });
    expect(objects.resultSecret.metadata?.ownerReferences ?? []).toEqual([]);
    // The rest of the run is cleaned up with the resource as before.
    expect(objects.job.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'ManagedAccountMfa',
      uid: mfa.metadata.uid,
    });
  });
});
