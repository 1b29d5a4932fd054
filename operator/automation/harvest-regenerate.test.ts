import { beforeEach, describe, expect, it } from 'vitest';
import { apply, DriverFixture, failed, NS } from '../../test/automation/driver-fixture.ts';
import { randomRecoveryCodes, randomSeed } from '../../test/stores/random-material.ts';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import type { AutomationStep } from '../controller/managedaccountmfa/automation.ts';
import { recoveryCodesData } from '../run-contract/result-secret.ts';
import type { AccountRef } from '../stores/provider.ts';
import { accountRef } from '../stores/store-resolver.ts';
import { harvestRun, type HarvestDeps } from './harvest.ts';
import { RunLauncher } from './run-launcher.ts';
import { observeRun } from './run-observation.ts';

const SEED = randomSeed();
const OLD = randomRecoveryCodes(10);
const NEW = randomRecoveryCodes(10);

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

/** An enrolled account whose old set had codes 0 and 1 handed out, and the regenerate run the annotation started. */
async function regenerating(): Promise<{ mfa: ManagedAccountMfa; ref: AccountRef; job: string; oldVersion: string }> {
  const mfa = fx.account({}, {});
  const ref = accountRef(mfa);
  await fx.store.promotePendingSeed(ref, (await fx.store.writePendingSeed(ref, SEED)).version);
  const stored = await fx.store.writeRecoveryCodes(ref, OLD);
  mfa.metadata.annotations = { 'mfa-operator.io/regenerate-recovery-codes': 'x1' };
  mfa.status = {
    mfaState: 'Enabled',
    totp: { enrolledAt: '2026-11-30T00:00:00Z', algorithm: 'SHA1', digits: 6, period: 30, rotatedFor: 'r0' },
    recoveryCodes: { count: 10, version: stored.version, used: [0, 1], remaining: 8, storedAt: stored.createdAt },
  };
  await apply(mfa, await fx.driver().step(mfa));
  return { mfa, ref, job: fx.newestJob('regenerate'), oldVersion: stored.version };
}

async function harvest(mfa: ManagedAccountMfa, job: string): Promise<AutomationStep> {
  return harvestRun(deps, mfa, observeRun(fx.kube.jobs().find((j) => j.metadata?.name === job)!));
}

const regenerated = {
  outcome: 'RecoveryCodesRegenerated',
  reason: 'RecoveryCodesRegenerated',
  message: 'New set stored.',
  retryable: false,
  recoveryCodeCount: 10,
};

describe('harvestRun: a regenerate run', () => {
  it('replaces the stored set: a new version with none used, the seed and its record untouched', async () => {
    const { mfa, ref, job, oldVersion } = await regenerating();
    const seedBefore = await fx.store.readActiveSeed(ref);
    const totpBefore = structuredClone(mfa.status!.totp);
    fx.runnerWrites(job, recoveryCodesData(NEW));
    fx.kube.finishRun(NS, job, regenerated);

    const step = await harvest(mfa, job);

    expect((await fx.store.readRecoveryCodes(ref))!.codes.reveal()).toEqual(NEW.reveal());
    expect(await fx.store.readActiveSeed(ref)).toEqual(seedBefore);
    expect(await fx.store.readPendingSeed(ref)).toBeUndefined();
    expect(step.status?.recoveryCodes).toMatchObject({ count: 10, used: [], remaining: 10, regeneratedFor: 'x1' });
    expect(step.status?.recoveryCodes?.version).not.toBe(oldVersion);
    expect(step.status?.totp).toMatchObject(totpBefore!);
    expect(step.status?.mfaState).toBeUndefined();
    expect(step.status?.history?.[0]).toMatchObject({
      job,
      trigger: 'RegenerateRecoveryCodes',
      outcome: 'RecoveryCodesRegenerated',
    });
    expect(step.conditions.map((c) => `${c.type}=${c.status} ${c.reason}`)).toEqual([
      'RecoveryCodesRegenerated=True RecoveryCodesRegenerated',
      'RecoveryCodesStored=True RecoveryCodesStored',
    ]);
  });

  it('a failed run that read no new set keeps the old one, its used positions, and the request open', async () => {
    const { mfa, ref, job, oldVersion } = await regenerating();
    fx.kube.finishRun(NS, job, failed('StepUpRequired', false));

    const step = await harvest(mfa, job);

    expect((await fx.store.readRecoveryCodes(ref))!.codes.reveal()).toEqual(OLD.reveal());
    expect(step.status?.recoveryCodes).toMatchObject({ version: oldVersion, used: [0, 1], remaining: 8 });
    expect(step.status?.recoveryCodes?.regeneratedFor).toBeUndefined();
    expect(step.conditions).toEqual([
      expect.objectContaining({ type: 'RecoveryCodesRegenerated', status: 'False', reason: 'StepUpRequired' }),
    ]);
  });

  it('a run that failed after storing the new set (the app dropped the old one): the new set is kept and recorded', async () => {
    const { mfa, ref, job, oldVersion } = await regenerating();
    fx.runnerWrites(job, recoveryCodesData(NEW));
    fx.kube.finishRun(NS, job, failed('Terminated', true));

    const step = await harvest(mfa, job);

    expect((await fx.store.readRecoveryCodes(ref))!.codes.reveal()).toEqual(NEW.reveal());
    expect(step.status?.recoveryCodes).toMatchObject({ used: [], remaining: 10 });
    expect(step.status?.recoveryCodes?.version).not.toBe(oldVersion);
    // The request stays open: the retry gets yet another set, which is what was asked for.
    expect(step.status?.recoveryCodes?.regeneratedFor).toBeUndefined();
  });

  it('a harvest repeated after a crash (before or after the status write) stores one set, once, and one history entry', async () => {
    const { mfa, ref, job } = await regenerating();
    fx.runnerWrites(job, recoveryCodesData(NEW));
    fx.kube.finishRun(NS, job, regenerated);

    const crashed = await harvest(mfa, job); // its status never written
    const again = await harvest(mfa, job);
    await apply(mfa, { ...again, afterStatusWritten: async () => {} }); // crash before the cleanup
    const third = await harvest(mfa, job);
    await apply(mfa, third);

    expect(again.status?.recoveryCodes).toEqual(crashed.status?.recoveryCodes);
    expect(third.status?.recoveryCodes).toEqual(crashed.status?.recoveryCodes);
    expect((await fx.store.readRecoveryCodes(ref))!.codes.reveal()).toEqual(NEW.reveal());
    expect(mfa.status?.history?.filter((h) => h.job === job)).toHaveLength(1);
    expect(fx.kube.secret(NS, job)).toBeUndefined();
  });
});
