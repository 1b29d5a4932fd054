import { beforeEach, describe, expect, it } from 'vitest';
import { apply, DriverFixture, failed, NS } from '../../test/automation/driver-fixture.ts';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import type { AutomationStep } from '../controller/managedaccountmfa/automation.ts';
import { randomRecoveryCodes, randomSeed } from '../../test/stores/random-material.ts';
import type { AccountRef } from '../stores/provider.ts';
import { harvestRun, type HarvestDeps } from './harvest.ts';
import { neededAction } from './job-driver.ts';
import { adoptedSlotData, recoveryCodesData, RESULT_KEYS, seedData } from '../run-contract/result-secret.ts';
import { RunLauncher } from './run-launcher.ts';
import type { JobAction } from '../run-contract/run-spec.ts';
import { observeRun } from './run-observation.ts';
import { accountRef } from '../stores/store-resolver.ts';

const ENROLLED_AT = '2026-11-30T00:00:00Z';
const S0 = randomSeed();
const S1 = randomSeed();

let fx: DriverFixture;
let deps: HarvestDeps;
beforeEach(() => {
  fx = new DriverFixture();
  const { core, batch, rbac } = fx.kube;
  deps = {
    core,
    batch,
    stores: { forAccount: async () => ({ provider: fx.store, storeKind: 'Default', description: 'memory' }) },
    cleanup: new RunLauncher(core, batch, rbac),
    metrics: fx.metrics,
    now: () => new Date(fx.now),
  };
});

/** An account the driver just started a run of `action` for; S0 is active in the store for all but a first enable. */
async function runOf(
  action: JobAction,
  firstEnable = action === 'enable',
  rotateRequest = 'r1',
): Promise<{ mfa: ManagedAccountMfa; ref: AccountRef; job: string }> {
  const enrolled = { mfaState: 'Enabled' as const, totp: { enrolledAt: ENROLLED_AT } };
  const mfa = fx.account(
    action === 'disable' ? { mfa: { state: 'Disabled' } } : {},
    action === 'enable' ? {} : enrolled,
  );
  if (action === 'rotate') mfa.metadata.annotations = { 'mfa-operator.io/rotate': rotateRequest };
  const ref = accountRef(mfa);
  if (!firstEnable) await fx.store.promotePendingSeed(ref, (await fx.store.writePendingSeed(ref, S0)).version);
  await apply(mfa, await fx.driver().step(mfa));
  return { mfa, ref, job: fx.newestJob(action) };
}

async function harvest(mfa: ManagedAccountMfa, job: string): Promise<AutomationStep> {
  const found = fx.kube.jobs().find((j) => j.metadata?.name === job)!;
  return harvestRun(deps, mfa, observeRun(found));
}

const ok = (outcome: string) => ({ outcome, reason: outcome, message: `${outcome}.`, retryable: false });
const secretOf = async (slot: Promise<{ seed: TotpSeed } | undefined>) => (await slot)?.seed.secret.reveal();
const summary = (step: AutomationStep) => step.conditions.map((c) => `${c.type}=${c.status} ${c.reason}`);

describe('harvestRun: what the harvest stores in each seed state', () => {
  it.each<
    [
      string,
      JobAction | 'enable again',
      Record<string, string>,
      Record<string, unknown>,
      { active?: TotpSeed; pending?: TotpSeed },
    ]
  >([
    [
      'an enable run whose seed the app confirmed: active',
      'enable',
      seedData(S1, 'confirmed'),
      ok('Enabled'),
      { active: S1 },
    ],
    [
      'a Complete enable run whose slot still says pending: the run succeeded, so active',
      'enable',
      seedData(S1, 'pending'),
      ok('Enabled'),
      { active: S1 },
    ],
    [
      'an enable run killed after storing its pending seed: pending, for the next run to adopt',
      'enable',
      seedData(S1, 'pending'),
      failed('Terminated', true),
      { pending: S1 },
    ],
    [
      'an enable run that failed after the app took its seed (confirmed): active',
      'enable',
      seedData(S1, 'confirmed'),
      failed('Terminated', true),
      { active: S1 },
    ],
    [
      'a rotation whose own new seed was marked turned off (MFA went off with it): nothing written',
      'rotate',
      seedData(S1, 'disabled'),
      failed('ConnectorOutdated', false),
      { active: S0 },
    ],
    [
      'a rotation that enrolled a new seed: the new one active',
      'rotate',
      seedData(S1, 'confirmed'),
      ok('Enabled'),
      { active: S1 },
    ],
    [
      'an enable re-run that signed in with the active seed and adopted it: nothing to write',
      'enable again',
      adoptedSlotData('active'),
      ok('Adopted'),
      { active: S0 },
    ],
    ['a run that left nothing: the store as it was', 'rotate', {}, failed('InvalidCredentials', false), { active: S0 }],
  ])('%s', async (_case, action, written, outcome, expected) => {
    const { mfa, ref, job } = action === 'enable again' ? await runOf('enable', false) : await runOf(action);
    fx.runnerWrites(job, written);
    fx.kube.finishRun(NS, job, outcome);

    await harvest(mfa, job);

    expect(await secretOf(fx.store.readActiveSeed(ref))).toBe(expected.active?.secret.reveal());
    expect(await secretOf(fx.store.readPendingSeed(ref))).toBe(expected.pending?.secret.reveal());
  });

  it('promotes the pending seed a rotation retry adopted, and records the request it answered', async () => {
    const { mfa, ref, job } = await runOf('rotate');
    await fx.store.writePendingSeed(ref, S1);
    fx.runnerWrites(job, adoptedSlotData('pending'));
    fx.kube.finishRun(NS, job, ok('Adopted'));

    const step = await harvest(mfa, job);

    expect(await secretOf(fx.store.readActiveSeed(ref))).toBe(S1.secret.reveal());
    expect(step.status?.totp).toMatchObject({ rotatedFor: 'r1', enrolledAt: ENROLLED_AT });
    expect(summary(step)).toEqual([
      'AutomationSucceeded=True Adopted',
      'MfaEnabled=True MfaEnabled',
      'SeedStored=True SeedStored',
    ]);
  });
  it('records a rotation request longer than status holds as its digest, so the rotation is answered once', async () => {
    const { mfa, job } = await runOf('rotate', false, 'y'.repeat(300));
    fx.runnerWrites(job, seedData(S1, 'confirmed'));
    fx.kube.finishRun(NS, job, ok('Enabled'));

    const step = await harvest(mfa, job);
    await apply(mfa, step);

    expect(mfa.status?.totp?.rotatedFor).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(neededAction(mfa), 'the long request counts as answered').toBeUndefined();
  });
  it("ignores an adopted slot the run's pod wrote that is not one of the two names: nothing is promoted", async () => {
    const { mfa, ref, job } = await runOf('rotate');
    await fx.store.writePendingSeed(ref, S1);
    fx.runnerWrites(job, { [RESULT_KEYS.adoptedSlot]: Buffer.from('pending\n').toString('base64') });
    fx.kube.finishRun(NS, job, ok('Adopted'));

    await harvest(mfa, job);

    expect(await secretOf(fx.store.readActiveSeed(ref))).toBe(S0.secret.reveal());
    expect(await secretOf(fx.store.readPendingSeed(ref))).toBe(S1.secret.reveal());
  });
});

describe('harvestRun: status, and what is deleted when', () => {
  it('an enable run: references and counts in status, never values; cleanup only after status is written', async () => {
    const { mfa, job } = await runOf('enable');
    const codes = randomRecoveryCodes(8);
    fx.runnerWrites(job, { ...seedData(S1, 'confirmed'), ...recoveryCodesData(codes) });
    fx.kube.finishRun(NS, job, ok('Enabled'));
    fx.kube.calls = [];

    const step = await harvest(mfa, job);

    expect(summary(step)).toEqual([
      'AutomationSucceeded=True Enabled',
      'MfaEnabled=True MfaEnabled',
      'SeedStored=True SeedStored',
      'RecoveryCodesStored=True RecoveryCodesStored',
    ]);
    expect(step.status).toMatchObject({
      mfaState: 'Enabled',
      totp: {
        store: { storeKind: 'Default', provider: 'kubernetes', name: 'acct-totp', version: expect.any(String) },
        algorithm: 'SHA1',
        digits: 6,
        period: 30,
        enrolledAt: '2026-12-01T12:00:00Z',
      },
      recoveryCodes: { count: 8 },
      history: [{ job, trigger: 'SpecChanged', outcome: 'Enabled', reason: 'Enabled' }],
    });
    const text = JSON.stringify(step);
    for (const value of [S1.secret.reveal(), ...codes.reveal()]) expect(text).not.toContain(value);
    expect(
      fx.kube.calls.filter((c) => !c.startsWith('get ') && !c.startsWith('list ')),
      'nothing deleted before status is written',
    ).toEqual([]);

    await step.afterStatusWritten!();

    expect(fx.kube.calls.filter((c) => !c.startsWith('get ') && !c.startsWith('list '))).toEqual([
      ...['Secret', 'RoleBinding', 'Role', 'ServiceAccount'].map((kind) => `delete ${kind} ${NS}/${job}`),
      `patch Job ${NS}/${job}`,
    ]);
    expect(JSON.parse(fx.kube.jobs()[0]!.metadata!.annotations!['mfa-operator.io/harvested']!)).toMatchObject({
      outcome: 'Enabled',
      retryable: false,
    });
  });

  it('a disable run that turned MFA off: the material is deleted and status forgets it', async () => {
    const { mfa, ref, job } = await runOf('disable');
    await fx.store.writeRecoveryCodes(ref, randomRecoveryCodes());
    fx.runnerWrites(job, seedData(S0, 'disabled'));
    fx.kube.finishRun(NS, job, ok('Disabled'));

    const step = await harvest(mfa, job);

    expect(await fx.store.readMetadata(ref)).toMatchObject({
      active: undefined,
      pending: undefined,
      recoveryCodes: undefined,
    });
    expect(step.status).toMatchObject({ mfaState: 'Disabled', totp: undefined, recoveryCodes: undefined });
    expect(summary(step)).toEqual(['AutomationSucceeded=True Disabled', 'MfaEnabled=False MfaDisabled']);
  });

  it('a failure says only what it knows: MfaAlreadyEnabled records MFA on; any other leaves mfaState alone', async () => {
    const first = await runOf('enable');
    fx.kube.finishRun(NS, first.job, failed('MfaAlreadyEnabled', false));
    const other = await runOf('rotate');
    fx.kube.finishRun(NS, other.job, failed('InvalidCredentials', false));

    const already = await harvest(first.mfa, first.job);
    const refused = await harvest(other.mfa, other.job);

    expect(already.status).toEqual({
      history: [expect.objectContaining({ reason: 'MfaAlreadyEnabled' })],
      mfaState: 'Enabled',
    });
    expect(Object.keys(refused.status!)).toEqual(['history']);
    expect(summary(refused)).toEqual(['AutomationSucceeded=False InvalidCredentials']);
  });

  it('a run that says MFA is on while the store holds no seed: SeedStored False, and not recorded as enrolled', async () => {
    const { mfa, ref, job } = await runOf('enable');
    // The result Secret lost the seed before the harvest: deleted by someone, or emptied by the run's own pod.
    fx.kube.finishRun(NS, job, ok('Enabled'));

    const step = await harvest(mfa, job);

    expect(summary(step)).toEqual([
      'AutomationSucceeded=True Enabled',
      'MfaEnabled=True MfaEnabled',
      'SeedStored=False SeedMissing',
    ]);
    expect(step.conditions[2]!.message).toContain(`Job ${job} reported MFA on, but memory holds no seed`);
    expect(step.status).toEqual({
      history: [expect.objectContaining({ job, outcome: 'Enabled' })],
      mfaState: 'Enabled',
    });
    expect(await fx.store.readActiveSeed(ref)).toBeUndefined();
  });

  it('keeps the last 20 runs, newest first, and a repeated harvest of one run replaces its entry', async () => {
    const { mfa, job } = await runOf('enable');
    mfa.status = {
      history: Array.from({ length: 25 }, (_, i) => ({
        job: `old-${i}`,
        trigger: 'SpecChanged',
        outcome: 'Failed',
        reason: 'Timeout',
        message: '',
      })),
    };
    fx.runnerWrites(job, seedData(S1, 'confirmed'));
    fx.kube.finishRun(NS, job, ok('Enabled'));

    mfa.status = { ...mfa.status, ...(await harvest(mfa, job)).status };
    const again = await harvest(mfa, job);

    expect(again.status!.history!.map((h) => h.job)).toEqual([
      job,
      ...Array.from({ length: 19 }, (_, i) => `old-${i}`),
    ]);
  });
});

describe('harvestRun: a store outage', () => {
  it('keeps the material in the result Secret, says so, and a later harvest stores it once', async () => {
    const { mfa, ref, job } = await runOf('enable');
    fx.runnerWrites(job, { ...seedData(S1, 'confirmed'), ...recoveryCodesData(randomRecoveryCodes()) });
    fx.kube.finishRun(NS, job, ok('Enabled'));
    fx.store.failing.add('promotePendingSeed');

    const down = await harvest(mfa, job);

    expect(summary(down)).toEqual(['SeedStored=False SecretStoreUnavailable']);
    expect(down).toMatchObject({ requeueAfterMs: 15_000 });
    expect(down.status).toBeUndefined();
    expect(down.afterStatusWritten, 'nothing may be deleted').toBeUndefined();
    expect(await secretOf(fx.store.readPendingSeed(ref)), 'the pending write before the outage stands').toBe(
      S1.secret.reveal(),
    );
    expect(await fx.metrics.registry.getSingleMetricAsString('mfa_operator_store_writes_total')).toContain(
      'result="failure"} 1',
    );

    fx.store.failing.clear();
    const up = await harvest(mfa, job);
    await apply(mfa, up);

    expect(await secretOf(fx.store.readActiveSeed(ref))).toBe(S1.secret.reveal());
    expect(await fx.store.readPendingSeed(ref)).toBeUndefined();
    expect(fx.kube.secret(NS, job)).toBeUndefined();
  });

  it("an error that is not the store's is thrown, so the work queue retries it", async () => {
    const { mfa, job } = await runOf('enable');
    fx.runnerWrites(job, seedData(S1, 'confirmed'));
    fx.kube.finishRun(NS, job, ok('Enabled'));
    fx.store.writePendingSeed = async () => {
      throw new TypeError('bug');
    };

    await expect(harvest(mfa, job)).rejects.toThrow(TypeError);
  });
});
