import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobAutomationDriver } from '../../operator/automation/job-driver.ts';
import { recoveryCodesData, seedData } from '../../operator/automation/result-secret.ts';
import { DEFAULT_RUNNER_SETTINGS } from '../../operator/automation/runner-settings.ts';
import { accountRef } from '../../operator/automation/store-resolver.ts';
import type { ManagedAccountMfa } from '../../operator/api/v1alpha1/types.generated.ts';
import type { AutomationStep } from '../../operator/controller/managedaccountmfa/automation.ts';
import { createLogger } from '../../operator/logging/logger.ts';
import { createMetrics } from '../../operator/metrics/metrics.ts';
import { DemoRunFixture } from '../runner/demo-run-fixture.ts';
import { signInWith } from '../runner/sign-in-check.ts';
import type { SecretStoreProvider } from '../../operator/stores/provider.ts';
import { InMemoryKube } from './in-memory-kube.ts';
import { InMemoryStore } from './in-memory-store.ts';

/**
 * The operator killed between every harvest step (store pending, promote, recovery codes, status, delete the result
 * Secret, mark the Job harvested): a new operator process (a fresh driver, no memory) harvests again, and the account
 * ends with its seed active in the store, signing in to the demo app. The run is a real enable run in Chromium; the API
 * server is played by InMemoryKube (the harvest's own calls), the store by InMemoryStore.
 */
const HARVEST_STEPS = ['writePendingSeed', 'promotePendingSeed', 'writeRecoveryCodes', 'status', 'deleteResultSecret', 'markHarvested'] as const;
type HarvestStep = (typeof HARVEST_STEPS)[number];
const NS = 'default';

class OperatorKilled extends Error {}

let fixture: DemoRunFixture;
beforeAll(async () => { fixture = await DemoRunFixture.start(); });
afterAll(async () => { await fixture?.close(); });

function driverFor(kube: InMemoryKube, store: InMemoryStore, killAfter?: HarvestStep): JobAutomationDriver {
  const kill = (step: HarvestStep) => { if (step === killAfter) throw new OperatorKilled(`killed after ${step}`); };
  const provider: SecretStoreProvider = {
    apiVersion: store.apiVersion, kind: store.kind,
    writePendingSeed: async (ref, seed) => { const r = await store.writePendingSeed(ref, seed); kill('writePendingSeed'); return r; },
    promotePendingSeed: async (ref, version) => { const r = await store.promotePendingSeed(ref, version); kill('promotePendingSeed'); return r; },
    writeRecoveryCodes: async (ref, codes) => { const r = await store.writeRecoveryCodes(ref, codes); kill('writeRecoveryCodes'); return r; },
    readActiveSeed: (ref) => store.readActiveSeed(ref), readPendingSeed: (ref) => store.readPendingSeed(ref),
    readRecoveryCodes: (ref) => store.readRecoveryCodes(ref), readMetadata: (ref) => store.readMetadata(ref),
    delete: (ref) => store.delete(ref), validate: () => store.validate(), close: () => store.close(),
  };
  const core = kube.core;
  const batch = kube.batch;
  const killingCore = Object.assign(Object.create(core), {
    deleteNamespacedSecret: async (p: { namespace: string; name: string }) => { const r = await core.deleteNamespacedSecret(p); kill('deleteResultSecret'); return r; },
  });
  const killingBatch = Object.assign(Object.create(batch), {
    patchNamespacedJob: async (p: Parameters<typeof batch.patchNamespacedJob>[0]) => { const r = await batch.patchNamespacedJob(p); kill('markHarvested'); return r; },
  });
  return new JobAutomationDriver({
    core: killingCore, batch: killingBatch, rbac: kube.rbac, jobs: () => kube.jobs(), credentialsVersion: () => '1',
    stores: { forAccount: async () => ({ provider, storeKind: 'Default', description: 'memory' }) },
    settings: { ...DEFAULT_RUNNER_SETTINGS, image: 'runner:test' }, metrics: createMetrics(), log: createLogger('test', { level: 'silent' }),
  });
}

/** The reconciler's order: status, then the step's follow-up work; `killAfter: 'status'` dies in between. */
async function apply(mfa: ManagedAccountMfa, step: AutomationStep, killAfter?: HarvestStep): Promise<void> {
  mfa.status = { ...mfa.status, ...step.status };
  if (killAfter === 'status') throw new OperatorKilled('killed after status');
  await step.afterStatusWritten?.();
}

describe('operator killed between harvest steps: the next operator finishes, and the stored seed signs in', () => {
  it.each(HARVEST_STEPS)('killed after %s', async (killAfter) => {
    const kube = new InMemoryKube();
    const store = new InMemoryStore();
    const account = await fixture.account();
    const mfa = {
      apiVersion: 'mfa-operator.io/v1alpha1', kind: 'ManagedAccountMfa',
      metadata: { name: 'acct', namespace: NS, uid: `uid-${killAfter}`, generation: 1 },
      spec: { connector: 'demo', account: { credentialsSecretRef: { name: 'acct-login' } } }, status: {},
    } as ManagedAccountMfa;
    await apply(mfa, await driverFor(kube, store).step(mfa));
    const job = kube.jobs()[0]!.metadata!.name!;
    // The run, for real: Chromium enrols the demo account; its results land in the run's result Secret.
    const summary = await account.run();
    expect(summary).toMatchObject({ outcome: 'Enabled' });
    const slot = (await account.sink.readSeed())!;
    const secret = kube.secret(NS, job)!;
    secret.data = { ...secret.data, ...seedData(slot.seed, slot.state), ...recoveryCodesData((await account.sink.readRecoveryCodes())!) };
    kube.finishRun(NS, job, { outcome: 'Enabled', reason: 'Enabled', message: 'on', retryable: false });

    await expect((async () => apply(mfa, await driverFor(kube, store, killAfter).step(mfa), killAfter))()).rejects.toThrow(OperatorKilled);
    // A new operator process: nothing carried over but what the API server and the store hold.
    for (let pass = 0; pass < 3 && !kube.jobs()[0]!.metadata?.annotations?.['mfa-operator.io/harvested']; pass++) {
      await apply(mfa, await driverFor(kube, store).step(mfa));
    }

    expect(JSON.parse(kube.jobs()[0]!.metadata!.annotations!['mfa-operator.io/harvested']!)).toMatchObject({ outcome: 'Enabled' });
    expect(kube.secret(NS, job), 'the result Secret is gone once harvested').toBeUndefined();
    expect(mfa.status).toMatchObject({ mfaState: 'Enabled' });
    const ref = accountRef(mfa);
    const active = (await store.readActiveSeed(ref))!;
    expect(active.seed.secret.reveal()).toBe(slot.seed.secret.reveal());
    expect(await store.readPendingSeed(ref)).toBeUndefined();
    expect((await store.readRecoveryCodes(ref))?.codes.reveal()).toEqual((await account.sink.readRecoveryCodes())!.reveal());
    expect(await signInWith(fixture.app.url, account.email, account.password, active.seed)).toBe('Accepted');
  }, 90_000);
});
