import { BatchV1Api, CoreV1Api, type V1Job } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagedAccountMfa } from '../../operator/api/v1alpha1/types.generated.ts';
import { claimRecoveryCode } from '../../operator/codes/recovery-codes.ts';
import type { AutomationStep } from '../../operator/controller/managedaccountmfa/automation.ts';
import { plannedEvents } from '../../operator/controller/managedaccountmfa/condition-events.ts';
import { readyFrom } from '../../operator/controller/managedaccountmfa/ready-condition.ts';
import type { OutcomeSummary } from '../../operator/run-contract/outcome.ts';
import type { RunAction } from '../../operator/run-contract/run-spec.ts';
import { KubernetesResultSink } from '../../operator/runner/kubernetes-sink.ts';
import { KubernetesSecretStore } from '../../operator/stores/kubernetes/kubernetes-secret-store.ts';
import { accountRef } from '../../operator/stores/store-resolver.ts';
import { DemoHttpClient } from '../apps/demo/client/http-client.ts';
import { signIn } from '../apps/demo/client/flows.ts';
import type { ControlPlane } from '../envtest/control-plane.ts';
import { DemoRunFixture, type DemoAccount } from '../runner/demo-run-fixture.ts';
import { RunCodeService } from '../runner/run-code-service.ts';
import { startClusterWithCrds } from '../support/cluster.ts';
import {
  createAccount,
  envtestDriver,
  finishJob,
  runObjectsAsSeen,
  mergedConditions,
  runJobsOf,
} from './job-stand-in.ts';

/**
 * Regenerating recovery codes (issue 16 part 3) on a real API server with the real Kubernetes store and no kubelet: the
 * controller's driver decides and harvests, each run it starts is played by the real runner (Chromium, the demo app
 * behind its step-up), signing in with codes from the code service's run endpoint; job-stand-in.ts plays the Job
 * controller. Recovery codes are handed out by the code service's claim rule over the status the harvest wrote.
 */
const NS = 'default';
let cp: ControlPlane;
let fixture: DemoRunFixture;
let core: CoreV1Api;
let batch: BatchV1Api;
let store: KubernetesSecretStore;
let codes: RunCodeService;
let jobs: V1Job[] = [];
/** Every secret value these tests handled, for the final scan. */
const secretsUsed: string[] = [];
/** Everything a reader could have seen: statuses, conditions, Events, runner logs, code-service lines, run objects. */
const captured: string[] = [];

beforeAll(async () => {
  [cp, fixture] = await Promise.all([startClusterWithCrds(), DemoRunFixture.start()]);
  core = cp.kubeConfig().makeApiClient(CoreV1Api);
  batch = cp.kubeConfig().makeApiClient(BatchV1Api);
  store = new KubernetesSecretStore(cp.kubeConfig());
  codes = await RunCodeService.start(fixture.dir, store);
}, 120_000);
afterAll(async () => {
  await codes?.stop();
  await fixture?.close();
  await cp?.stop();
});

/** One reconcile: observe the account's Jobs, step, apply status and conditions as the reconciler does; answers the Events. */
async function reconcile(mfa: ManagedAccountMfa): Promise<{ step: AutomationStep; events: string[] }> {
  await observeJobs(mfa);
  const step = await envtestDriver(cp, store, () => jobs).step(mfa);
  const before = mfa.status?.conditions ?? [];
  const others = mergedConditions(
    before.filter((c) => c.type !== 'Ready'),
    step.conditions,
  );
  const ready = readyFrom(others);
  const events = plannedEvents(before, step.conditions, ready, step.events ?? []);
  mfa.status = { ...mfa.status, ...step.status, conditions: mergedConditions(others, [ready]) };
  captured.push(JSON.stringify(step.conditions), JSON.stringify(events), JSON.stringify(mfa.status));
  await step.afterStatusWritten?.();
  // The run objects once a reconcile is done: a finished run's result Secret (its channel for material) is gone then.
  captured.push(await runObjectsAsSeen(cp, NS));
  await observeJobs(mfa);
  return { step, events: events.map((e) => `${e.type} ${e.reason}: ${e.note}`) };
}

async function observeJobs(mfa: ManagedAccountMfa): Promise<void> {
  jobs = await runJobsOf(batch, mfa);
}

/** Plays the Job the driver just created with the real runner, then finishes it as the Job controller would. */
async function playRun(mfa: ManagedAccountMfa, account: DemoAccount, action: RunAction): Promise<OutcomeSummary> {
  await observeJobs(mfa);
  const run = jobs.find((j) => j.metadata?.labels?.['mfa-operator.io/action'] === action && !j.status?.conditions);
  expect(run, `a ${action} Job was created`).toBeDefined();
  const name = run!.metadata!.name!;
  captured.push(await runObjectsAsSeen(cp, NS));
  const summary = await account.run(
    {
      action,
      sink: { type: 'kubernetes', namespace: NS, secretName: name },
      codeService: await codes.run(accountRef(mfa), name),
    },
    new KubernetesResultSink(NS, name, cp.kubeConfig()),
  );
  captured.push(...account.logLines, ...codes.lines);
  await finishJob(core, batch, NS, name, summary as unknown as Record<string, unknown>);
  return summary;
}

/** `kubectl mfa recovery-code`'s claim rule: the first unused code of the stored set, recorded as used in status. */
async function handOutRecoveryCode(mfa: ManagedAccountMfa): Promise<string> {
  const stored = (await store.readRecoveryCodes(accountRef(mfa)))!;
  const claimed = claimRecoveryCode(mfa, stored, { user: 'alice' }, new Date());
  mfa.status = claimed.status;
  captured.push(JSON.stringify(mfa.status));
  return stored.codes.reveal()[claimed.index]!;
}

/** A person's sign-in with a recovery code, over HTTP: whether the demo app let them in. */
async function recoveryCodeSignsIn(account: DemoAccount, code: string): Promise<boolean> {
  const client = new DemoHttpClient(fixture.app.url);
  const prompt = await signIn(client, account.email, account.password);
  const page = await client.submit(prompt, '/login/recovery', { recovery_code: code });
  return page.status === 200 && page.path === '/';
}

/** An account the operator enrolled: the enable run played and harvested. */
async function enrolled(name: string, spec: Partial<ManagedAccountMfa['spec']> = {}) {
  const account = await fixture.account({ stepUp: true });
  const mfa = await createAccount(cp, NS, name, spec);
  await reconcile(mfa);
  expect(await playRun(mfa, account, 'enable')).toMatchObject({ outcome: 'Enabled' });
  await reconcile(mfa);
  expect(mfa.status).toMatchObject({ mfaState: 'Enabled', recoveryCodes: { count: 10, remaining: 10 } });
  const ref = accountRef(mfa);
  secretsUsed.push(
    account.password,
    (await store.readActiveSeed(ref))!.seed.secret.reveal(),
    ...(await store.readRecoveryCodes(ref))!.codes.reveal(),
  );
  return { account, mfa, ref };
}

describe('regenerating recovery codes through the controller', () => {
  it('the annotation gets a new set once: recorded in status and history, told by Events; old codes stop working', async () => {
    const { account, mfa, ref } = await enrolled('regenerated');
    const handedOut = await handOutRecoveryCode(mfa);
    const oldSet = (await store.readRecoveryCodes(ref))!;
    const neverHandedOut = oldSet.codes.reveal()[5]!;
    expect(mfa.status?.recoveryCodes).toMatchObject({ used: [0], remaining: 9 });

    mfa.metadata.annotations = { 'mfa-operator.io/regenerate-recovery-codes': 'ticket-4711' };
    const launched = await reconcile(mfa);
    expect(launched.events).toEqual([
      expect.stringMatching(
        /^Normal JobCreated: .*regenerating the recovery codes.*trigger RegenerateRecoveryCodes, attempt 1/,
      ),
    ]);
    expect(await playRun(mfa, account, 'regenerate')).toMatchObject({ outcome: 'RecoveryCodesRegenerated' });
    const harvested = await reconcile(mfa);

    const newSet = (await store.readRecoveryCodes(ref))!;
    secretsUsed.push(...newSet.codes.reveal());
    expect(newSet.metadata.version).not.toBe(oldSet.metadata.version);
    expect(mfa.status?.recoveryCodes).toMatchObject({
      version: newSet.metadata.version,
      count: 10,
      remaining: 10,
      used: [],
      regeneratedFor: 'ticket-4711',
    });
    expect(mfa.status?.history?.[0]).toMatchObject({
      trigger: 'RegenerateRecoveryCodes',
      outcome: 'RecoveryCodesRegenerated',
      reason: 'RecoveryCodesRegenerated',
    });
    expect(harvested.events).toContainEqual(
      expect.stringMatching(/^Normal RecoveryCodesRegenerated: Job .*10 new recovery codes/),
    );
    expect(mfa.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });

    const fresh = await handOutRecoveryCode(mfa);
    expect(newSet.codes.reveal()).toContain(fresh);
    expect(await recoveryCodeSignsIn(account, handedOut), 'the old code handed out before').toBe(false);
    expect(await recoveryCodeSignsIn(account, neverHandedOut), 'an old code never handed out').toBe(false);
    expect(await recoveryCodeSignsIn(account, fresh), 'a code of the new set').toBe(true);

    // Asked once per value: another reconcile starts nothing.
    const after = await reconcile(mfa);
    expect(after.events).toEqual([]);
    expect(jobs.filter((j) => !j.status?.conditions)).toEqual([]);
  }, 240_000);

  it('WhenLow starts a run by itself once fewer than lowThreshold codes are left', async () => {
    const { account, mfa, ref } = await enrolled('when-low', {
      mfa: { state: 'Enabled', recoveryCodes: { regenerate: 'WhenLow', lowThreshold: 3 } },
    });
    for (let i = 0; i < 7; i++) await handOutRecoveryCode(mfa);
    expect((await reconcile(mfa)).events).toEqual([]);
    await handOutRecoveryCode(mfa);

    const launched = await reconcile(mfa);

    expect(launched.events).toEqual([expect.stringContaining('trigger RecoveryCodesLow, attempt 1')]);
    expect(await playRun(mfa, account, 'regenerate')).toMatchObject({ outcome: 'RecoveryCodesRegenerated' });
    await reconcile(mfa);
    secretsUsed.push(...(await store.readRecoveryCodes(ref))!.codes.reveal());
    expect(mfa.status?.recoveryCodes).toMatchObject({ remaining: 10, used: [] });
    expect(mfa.status?.history?.[0]).toMatchObject({
      trigger: 'RecoveryCodesLow',
      outcome: 'RecoveryCodesRegenerated',
    });
    expect((await reconcile(mfa)).events).toEqual([]);
  }, 240_000);

  it('keeps every seed, password and recovery code out of status, conditions, Events, run objects, logs and code-service lines', () => {
    expect(secretsUsed.length).toBeGreaterThanOrEqual(40);
    const text = captured.join('\n');
    expect(text).toContain('RecoveryCodesRegenerated');
    for (const value of secretsUsed) {
      for (const form of [value, value.toLowerCase(), Buffer.from(value).toString('base64')])
        expect(text.includes(form), 'a secret reached something a reader sees').toBe(false);
    }
  });
});
