import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryKube } from '../../test/automation/in-memory-kube.ts';
import { InMemoryStore } from '../../test/automation/in-memory-store.ts';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import type { TotpSeed } from '../../connectors/sdk/totp-seed.ts';
import type { AutomationStep } from '../controller/managedaccountmfa/automation.ts';
import { createLogger } from '../logging/logger.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { randomRecoveryCodes, randomSeed } from '../stores/contract.ts';
import type { AccountRef } from '../stores/provider.ts';
import { JobAutomationDriver } from './job-driver.ts';
import { readRunResult, recoveryCodesData, seedData } from './result-secret.ts';
import { runObjects } from './run-objects.ts';
import { DEFAULT_RUNNER_SETTINGS } from './runner-settings.ts';
import { accountRef } from './store-resolver.ts';

const NS = 'team-a';
const settings = { ...DEFAULT_RUNNER_SETTINGS, image: 'runner:test', retryBaseSeconds: 1, retryMaxSeconds: 1 };
const failed = (reason: string, retryable: boolean) => ({ outcome: 'Failed', reason, message: `failed: ${reason}`, retryable });

let kube: InMemoryKube;
let store: InMemoryStore;
let driver: JobAutomationDriver;
/** Fixed, and moved on by hand past each retry's backoff. */
let now: number;

beforeEach(() => {
  kube = new InMemoryKube();
  store = new InMemoryStore();
  now = Date.parse('2026-12-01T12:00:00Z');
  driver = new JobAutomationDriver({
    core: kube.core, batch: kube.batch, rbac: kube.rbac, jobs: () => kube.jobs(), credentialsVersion: () => '1',
    stores: { forAccount: async () => ({ provider: store, storeKind: 'Default', description: 'memory' }) },
    settings, metrics: createMetrics(), log: createLogger('test', { level: 'silent' }), now: () => new Date(now),
  });
});

function account(overrides: Partial<ManagedAccountMfa['spec']> = {}, status: ManagedAccountMfa['status'] = {}): ManagedAccountMfa {
  return {
    apiVersion: 'mfa-operator.io/v1alpha1', kind: 'ManagedAccountMfa',
    metadata: { name: 'acct', namespace: NS, uid: `uid-${Math.random().toString(36).slice(2)}`, generation: 1, creationTimestamp: new Date(now) },
    spec: { connector: 'demo', account: { credentialsSecretRef: { name: 'acct-login' } }, ...overrides },
    status,
  } as ManagedAccountMfa;
}

/** What the reconciler does with a step: status first, then the follow-up work. */
async function apply(mfa: ManagedAccountMfa, step: AutomationStep): Promise<void> {
  mfa.status = { ...mfa.status, ...step.status };
  await step.afterStatusWritten?.();
}

function newestJob(action: string): string {
  return kube.jobs().filter((j) => j.metadata?.labels?.['mfa-operator.io/action'] === action).at(-1)!.metadata!.name!;
}

/** The runner's writes to its result Secret (it may update only that one). */
function runnerWrites(name: string, data: Record<string, string>): void {
  const secret = kube.secret(NS, name)!;
  secret.data = { ...secret.data, ...data };
}

/** An account enrolled with S0 whose rotation was just asked for, and the S1 a rotation would bring. */
async function enrolledWithRotationAsked(): Promise<{ S0: TotpSeed; S1: TotpSeed; mfa: ManagedAccountMfa; ref: AccountRef }> {
  const S0 = randomSeed();
  const S1 = randomSeed();
  const mfa = account({}, { mfaState: 'Enabled', totp: { enrolledAt: '2026-11-30T00:00:00Z' } });
  mfa.metadata.annotations = { 'mfa-operator.io/rotate': 'r1' };
  const ref = accountRef(mfa);
  await store.promotePendingSeed(ref, (await store.writePendingSeed(ref, S0)).version);
  return { S0, S1, mfa, ref };
}

describe('JobAutomationDriver: a rotation retry keeps the new seed (issue 11, item 1)', () => {
  it('hands a retry the pending new seed as its candidate, and its harvest never erases it', async () => {
    const { S0, S1, mfa, ref } = await enrolledWithRotationAsked();

    // Attempt 1 turned MFA off with S0, enrolled S1 (stored as pending, confirmed on the app), then lost its result Secret.
    await apply(mfa, await driver.step(mfa));
    const first = newestJob('rotate');
    runnerWrites(first, seedData(S1, 'pending'));
    kube.finishRun(NS, first, failed('SinkUnavailable', true));
    await apply(mfa, await driver.step(mfa));
    expect((await store.readPendingSeed(ref))?.seed.secret.reveal()).toBe(S1.secret.reveal());

    // The retry: the app now requires S1, which the retry must be able to try; here it fails without writing anything.
    now += 60_000;
    await apply(mfa, await driver.step(mfa));
    const retry = newestJob('rotate');
    expect(retry).not.toBe(first);
    const handedIn = readRunResult(kube.secret(NS, retry));
    expect(handedIn.seed?.secret.reveal(), 'the candidate is the pending new seed').toBe(S1.secret.reveal());
    expect(handedIn.seedState).toBe('pending');
    expect(handedIn.activeSeed?.secret.reveal()).toBe(S0.secret.reveal());
    kube.finishRun(NS, retry, failed('InvalidCredentials', false));
    await apply(mfa, await driver.step(mfa));

    expect((await store.readPendingSeed(ref))?.seed.secret.reveal(), 'S1, which the app requires, is still in the store').toBe(S1.secret.reveal());
    expect((await store.readActiveSeed(ref))?.seed.secret.reveal()).toBe(S0.secret.reveal());
  });

  it('promotes the new seed when a retry adopted it', async () => {
    const { S1, mfa, ref } = await enrolledWithRotationAsked();
    await store.writePendingSeed(ref, S1);

    await apply(mfa, await driver.step(mfa));
    const run = newestJob('rotate');
    runnerWrites(run, seedData(S1, 'confirmed'));
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
      const mfa = account({ deletionPolicy });
      const ref = accountRef(mfa);
      await apply(mfa, await driver.step(mfa));
      const run = newestJob('enable');
      runnerWrites(run, { ...seedData(S1, 'confirmed'), ...recoveryCodesData(randomRecoveryCodes()) });
      kube.finishRun(NS, run, { outcome: 'Enabled', reason: 'Enabled', message: 'on', retryable: false });
      mfa.metadata.deletionTimestamp = new Date(now);

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
        const disable = newestJob('disable');
        expect(readRunResult(kube.secret(NS, disable)).activeSeed?.secret.reveal()).toBe(S1.secret.reveal());
        expect(await store.readActiveSeed(ref)).toBeDefined();
      }
    });

    it(`${deletionPolicy}: waits for an active run`, async () => {
      const mfa = account({ deletionPolicy });
      await apply(mfa, await driver.step(mfa));
      mfa.metadata.deletionTimestamp = new Date(now);

      const step = await driver.finalize(mfa);

      expect(step.done).toBe(false);
      expect(step.conditions[0]).toMatchObject({ reason: 'RunInProgress' });
      expect(step.requeueAfterMs).toBeGreaterThan(0);
    });
  }

  it('Disable with status not Enabled but a pending seed in the store: turns MFA off first instead of deleting the seed', async () => {
    const S1 = randomSeed();
    const mfa = account({ deletionPolicy: 'Disable' });
    const ref = accountRef(mfa);
    // An enable run that failed after the app turned MFA on (its confirmation was not recorded) left S1 pending.
    await store.writePendingSeed(ref, S1);
    mfa.metadata.deletionTimestamp = new Date(now);

    const step = await driver.finalize(mfa);
    await apply(mfa, step);

    expect(step.done).toBe(false);
    expect((await store.readPendingSeed(ref))?.seed.secret.reveal()).toBe(S1.secret.reveal());
    expect(readRunResult(kube.secret(NS, newestJob('disable'))).seed?.secret.reveal()).toBe(S1.secret.reveal());
  });

  it('Disable with nothing stored: done, and nothing is left', async () => {
    const mfa = account({ deletionPolicy: 'Disable' });
    mfa.metadata.deletionTimestamp = new Date(now);

    const step = await driver.finalize(mfa);

    expect(step.done).toBe(true);
    expect(kube.jobs()).toEqual([]);
  });
});

describe('run objects', () => {
  it('the result Secret is not owned by the resource, so no garbage collector deletes it before the harvest', () => {
    const mfa = account();
    const objects = runObjects({ mfa, trigger: 'SpecChanged', settings, run: { accountName: 'acct', accountUid: mfa.metadata.uid!, action: 'enable', generation: 1, attempt: 1 } });
    expect(objects.resultSecret.metadata?.ownerReferences ?? []).toEqual([]);
    // The rest of the run is cleaned up with the resource as before.
    expect(objects.job.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'ManagedAccountMfa', uid: mfa.metadata.uid });
  });
});
