import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryKube } from '../../test/automation/in-memory-kube.ts';
import { InMemoryStore } from '../../test/automation/in-memory-store.ts';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import type { AutomationStep } from '../controller/managedaccountmfa/automation.ts';
import { createLogger } from '../../core/logging/logger.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { randomRecoveryCodes, randomSeed } from '../stores/contract.ts';
import type { AccountRef } from '../stores/provider.ts';
import { JobAutomationDriver } from './job-driver.ts';
import { adoptedSlotData, recoveryCodesData, seedData } from '../run-contract/result-secret.ts';
import { runObjects } from './run-objects.ts';
import { DEFAULT_RUNNER_SETTINGS } from './runner-settings.ts';
import { accountRef } from '../stores/store-resolver.ts';

const NS = 'team-a';
const settings = { ...DEFAULT_RUNNER_SETTINGS, image: 'runner:test', retryBaseSeconds: 1, retryMaxSeconds: 1 };
const failed = (reason: string, retryable: boolean) => ({ outcome: 'Failed', reason, message: `failed: ${reason}`, retryable });

let kube: InMemoryKube;
let store: InMemoryStore;
let driver: JobAutomationDriver;
const codeService = { url: 'https://codes.mfa-operator-system.svc', caBundle: 'PEM', audience: 'mfa-operator.io/code-service' };
/** Fixed, and moved on by hand past each retry's backoff. */
let now: number;

beforeEach(() => {
  kube = new InMemoryKube();
  store = new InMemoryStore();
  now = Date.parse('2026-12-01T12:00:00Z');
  driver = driverWith({ codeService });
});

function driverWith(options: { codeService?: typeof codeService }): JobAutomationDriver {
  return new JobAutomationDriver({
    core: kube.core, batch: kube.batch, rbac: kube.rbac, jobs: () => kube.jobs(), credentialsVersion: () => '1',
    stores: { forAccount: async () => ({ provider: store, storeKind: 'Default', description: 'memory' }) },
    settings, metrics: createMetrics(), log: createLogger('test', { level: 'silent' }), now: () => new Date(now), ...options,
  });
}

/** Every value of the run's result Secret (decoded) and its Job, as one text: where a leaked seed would show. */
function runObjectsText(name: string): string {
  const secret = kube.secret(NS, name)!;
  const decoded = Object.values(secret.data ?? {}).map((v) => Buffer.from(v, 'base64').toString('utf8'));
  const job = kube.jobs().find((j) => j.metadata?.name === name);
  return [...decoded, JSON.stringify(secret), JSON.stringify(job)].join('\n');
}

function expectNoSeedIn(name: string, ...seeds: TotpSeed[]): void {
  const text = runObjectsText(name);
  for (const seed of seeds) expect(text.includes(seed.secret.reveal()), 'a stored seed is in the run\'s result Secret or Job').toBe(false);
  expect(Object.keys(kube.secret(NS, name)!.data ?? {})).toEqual(['run-spec.json']);
}

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
  it('hands a retry no seed (it asks the code service), and its harvest never erases the pending new seed', async () => {
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
    expectNoSeedIn(retry, S0, S1);
    expect(JSON.parse(runObjectsText(retry).split('\n')[0]!).codeService).toMatchObject({ url: codeService.url, caBundle: 'PEM', namespace: NS, job: retry });
    kube.finishRun(NS, retry, failed('InvalidCredentials', false));
    await apply(mfa, await driver.step(mfa));

    expect((await store.readPendingSeed(ref))?.seed.secret.reveal(), 'S1, which the app requires, is still in the store').toBe(S1.secret.reveal());
    expect((await store.readActiveSeed(ref))?.seed.secret.reveal()).toBe(S0.secret.reveal());
  });

  it('promotes the pending new seed when a retry reports it adopted the pending slot', async () => {
    const { S1, mfa, ref } = await enrolledWithRotationAsked();
    await store.writePendingSeed(ref, S1);

    await apply(mfa, await driver.step(mfa));
    const run = newestJob('rotate');
    runnerWrites(run, adoptedSlotData('pending'));
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
        expectNoSeedIn(newestJob('disable'), S1);
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
    expectNoSeedIn(newestJob('disable'), S1);
  });

  it('Disable with nothing stored: done, and nothing is left', async () => {
    const mfa = account({ deletionPolicy: 'Disable' });
    mfa.metadata.deletionTimestamp = new Date(now);

    const step = await driver.finalize(mfa);

    expect(step.done).toBe(true);
    expect(kube.jobs()).toEqual([]);
  });
});

describe('JobAutomationDriver without a code service for runs (issue 11, item 8)', () => {
  it('starts no run that may need a stored seed, and says which flag is missing', async () => {
    const { mfa } = await enrolledWithRotationAsked();

    const step = await driverWith({}).step(mfa);

    expect(kube.jobs()).toEqual([]);
    expect(step.conditions).toEqual([expect.objectContaining({ type: 'AutomationSucceeded', status: 'False', reason: 'CodeServiceRequired' })]);
    expect(step.conditions[0]!.message).toContain('--code-service-run-url');
  });

  it('still starts a first enable: nothing is stored, so no run needs a code', async () => {
    const mfa = account();

    await apply(mfa, await driverWith({}).step(mfa));

    const run = newestJob('enable');
    expect(JSON.parse(runObjectsText(run).split('\n')[0]!).codeService).toBeUndefined();
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
