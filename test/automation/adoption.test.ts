import { BatchV1Api, CoreV1Api, type V1Job } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { toOtpauthUri } from '../../core/totp/seed-text.ts';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import type { ManagedAccountMfa } from '../../operator/api/v1alpha1/types.generated.ts';
import { AccountCodes } from '../../operator/codes/account-codes.ts';
import { CodeIssuer } from '../../operator/codes/code-issuer.ts';
import { StoreSeedSource } from '../../operator/codes/seed-source.ts';
import type { AutomationStep } from '../../operator/controller/managedaccountmfa/automation.ts';
import type { OutcomeSummary } from '../../operator/run-contract/outcome.ts';
import { KubernetesResultSink } from '../../operator/runner/kubernetes-sink.ts';
import { KubernetesSecretStore } from '../../operator/stores/kubernetes/kubernetes-secret-store.ts';
import { accountRef } from '../../operator/stores/store-resolver.ts';
import { DemoHttpClient, recoveryCodesOn } from '../apps/demo/client/http-client.ts';
import { codeAt, setupKey, signIn, startEnrollment } from '../apps/demo/client/flows.ts';
import type { ControlPlane } from '../envtest/control-plane.ts';
import { DemoRunFixture, type DemoAccount } from '../runner/demo-run-fixture.ts';
import { RunCodeService } from '../runner/run-code-service.ts';
import { randomSeed } from '../stores/random-material.ts';
import { startClusterWithCrds } from '../support/cluster.ts';
import { signInWithCodes } from '../support/demo-login.ts';
import {
  createAccount,
  envtestDriver,
  finishJob,
  runObjectsAsSeen,
  mergedConditions,
  runJobsOf,
} from './job-stand-in.ts';

/**
 * spec.mfa.adoptFrom (issue 16 part 2) on a real API server with the real Kubernetes store: a person turned MFA on in
 * the demo app with their own authenticator, and the operator takes that authenticator over. The controller's driver
 * decides and harvests; each run it starts is played by the real runner (Chromium, the demo app), signing in with codes
 * from the code service's run endpoint over the same store; the Job controller's part is played by job-stand-in.ts.
 */
const NS = 'default';
let cp: ControlPlane;
let fixture: DemoRunFixture;
let core: CoreV1Api;
let batch: BatchV1Api;
let store: KubernetesSecretStore;
let codes: RunCodeService;
/** The driver's Job cache and Secret cache (only labelled Secrets), as the informers would hold them. */
let jobs: V1Job[] = [];
const sourceVersions = new Map<string, string>();
/** Every secret value these tests handled, for the final scan. */
const secretsUsed: string[] = [];
/** Everything a reader could have seen: statuses and conditions, runner logs, code-service lines, run objects. */
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

const driver = () =>
  envtestDriver(cp, store, () => jobs, {
    adoptionSourceVersion: (m) => sourceVersions.get(m.spec.mfa?.adoptFrom?.secretName ?? ''),
  });

/** A person enrols their own authenticator in the demo app, as the enrolment page shows it; answers seed and codes. */
async function enrolledByAPerson(account: DemoAccount): Promise<{ seed: TotpSeed; recoveryCodes: string[] }> {
  const client = new DemoHttpClient(fixture.app.url);
  await signIn(client, account.email, account.password);
  const setup = await startEnrollment(client);
  const key = setupKey(setup).replace(/\s/g, '');
  const page = await client.submit(setup, '/settings/security/totp/confirm', { code: codeAt(key, Date.now()) });
  const recoveryCodes = recoveryCodesOn(page);
  await client.submit(page, '/settings/security/recovery-codes/acknowledge', {});
  expect(account.mfaEnabled()).toBe(true);
  secretsUsed.push(key, ...recoveryCodes, account.password);
  return { seed: { secret: new SecretValue(key), algorithm: 'SHA1', digits: 6, period: 30 }, recoveryCodes };
}

/** The source Secret as its owner writes it; `labelled` is the opt-in the operator's Secret informer watches. */
async function writeSource(name: string, data: Record<string, string>, labelled = true): Promise<void> {
  const body = {
    metadata: { name, namespace: NS, ...(labelled ? { labels: { 'mfa-operator.io/credentials': 'true' } } : {}) },
    stringData: data,
  };
  await core.deleteNamespacedSecret({ namespace: NS, name }).catch(() => undefined);
  const written = await core.createNamespacedSecret({ namespace: NS, body });
  if (labelled) sourceVersions.set(name, written.metadata!.resourceVersion!);
  else sourceVersions.delete(name);
}

async function createMfa(name: string, adoptFrom: Record<string, string>): Promise<ManagedAccountMfa> {
  return createAccount(cp, NS, name, { mfa: { adoptFrom: adoptFrom as { secretName: string } } });
}

/** One reconcile of the driver: observe the account's Jobs, step, and apply what it says as the reconciler does. */
async function reconcile(mfa: ManagedAccountMfa): Promise<AutomationStep> {
  await observeJobs(mfa);
  const step = await driver().step(mfa);
  mfa.status = {
    ...mfa.status,
    ...step.status,
    conditions: mergedConditions(mfa.status?.conditions ?? [], step.conditions),
  };
  captured.push(JSON.stringify(step.conditions), JSON.stringify(step.events ?? []), JSON.stringify(mfa.status));
  await step.afterStatusWritten?.();
  // What the next reconcile (and the assertions) see: the Jobs after this step.
  await observeJobs(mfa);
  return step;
}

async function observeJobs(mfa: ManagedAccountMfa): Promise<void> {
  jobs = await runJobsOf(batch, mfa);
}

/** Plays the Job the driver just created with the real runner, then finishes it as the Job controller would. */
async function playRun(mfa: ManagedAccountMfa, account: DemoAccount, action: string): Promise<OutcomeSummary> {
  await observeJobs(mfa);
  const run = jobs.find((j) => j.metadata?.labels?.['mfa-operator.io/action'] === action && !j.status?.conditions);
  expect(run, `a ${action} Job was created`).toBeDefined();
  const name = run!.metadata!.name!;
  captured.push(await runsAsSeen());
  const summary = await account.run(
    {
      action: action as 'adopt',
      sink: { type: 'kubernetes', namespace: NS, secretName: name },
      codeService: await codes.run(accountRef(mfa), name),
    },
    new KubernetesResultSink(NS, name, cp.kubeConfig()),
  );
  captured.push(...account.logLines, ...codes.lines, await runsAsSeen());
  await finishJob(core, batch, NS, name, summary as unknown as Record<string, unknown>);
  return summary;
}

const runsAsSeen = () => runObjectsAsSeen(cp, NS);

function condition(mfa: ManagedAccountMfa, type: string) {
  return mfa.status?.conditions?.find((c) => c.type === type);
}

describe('adopting an authenticator that is already on (spec.mfa.adoptFrom)', () => {
  it('takes over a good seed: proved by a sign-in, then stored with its recovery codes; codes from the store open the app', async () => {
    const account = await fixture.account();
    const person = await enrolledByAPerson(account);
    await writeSource('phone-seed', {
      otpauth: toOtpauthUri({ ...person.seed, issuer: 'Demo', label: account.email }).reveal(),
      'recovery-codes': person.recoveryCodes.join('\n'),
    });
    const mfa = await createMfa('adopted', { secretName: 'phone-seed', recoveryCodesKey: 'recovery-codes' });
    const ref = accountRef(mfa);

    const launched = await reconcile(mfa);
    expect(launched.events?.[0]?.note).toContain('adopt');
    expect((await store.readPendingSeed(ref))?.seed.secret.reveal(), 'the candidate waits in the pending slot').toBe(
      person.seed.secret.reveal(),
    );
    expect(await store.readActiveSeed(ref)).toBeUndefined();

    expect(await playRun(mfa, account, 'adopt')).toMatchObject({ outcome: 'Adopted' });
    const harvested = await reconcile(mfa);

    expect((await store.readActiveSeed(ref))?.seed.secret.reveal()).toBe(person.seed.secret.reveal());
    expect((await store.readRecoveryCodes(ref))?.codes.reveal()).toEqual(person.recoveryCodes);
    expect(harvested.status).toMatchObject({ mfaState: 'Enabled', totp: { enrolledAt: expect.any(String) } });
    expect(mfa.status?.history?.[0]).toMatchObject({ trigger: 'Adopt', outcome: 'Adopted' });
    expect(condition(mfa, 'SeedAdopted')).toMatchObject({
      status: 'True',
      reason: 'Adopted',
      message: expect.stringMatching(/Secret "phone-seed".*The Secret may be deleted/),
    });
    expect(condition(mfa, 'SeedStored')).toMatchObject({ status: 'True' });
    expect(account.mfaEnabled(), 'the app still has the same authenticator on').toBe(true);

    // Codes as `kubectl mfa code` gets them (the code service's account codes over the store) open the app.
    const seeds = new StoreSeedSource(async () => store);
    const accountCodes = new AccountCodes(
      { readActiveSeed: async () => ({ seed: await seeds.seedOf(mfa), account: ref }) },
      new CodeIssuer(),
    );
    const page = await signInWithCodes(fixture.app.url, account.email, account.password, async () =>
      (await accountCodes.issue(ref, 'login')).code.reveal(),
    );
    expect(page.path).toBe('/');

    // The source Secret goes: nothing changes, no run starts, the store keeps the seed.
    await core.deleteNamespacedSecret({ namespace: NS, name: 'phone-seed' });
    sourceVersions.delete('phone-seed');
    const before = JSON.stringify(mfa.status);
    const after = await reconcile(mfa);
    expect(after.conditions).toEqual([]);
    expect(after.events ?? []).toEqual([]);
    expect(JSON.stringify(mfa.status)).toBe(before);
    expect(jobs.filter((j) => !j.status?.conditions)).toEqual([]);
    expect((await store.readActiveSeed(ref))?.seed.secret.reveal()).toBe(person.seed.secret.reveal());
  }, 180_000);

  it('refuses a well-formed seed the app does not take: nothing stored, MFA still on, no retry until the Secret changes', async () => {
    const account = await fixture.account();
    await enrolledByAPerson(account);
    const wrong = randomSeed();
    secretsUsed.push(wrong.secret.reveal());
    await writeSource('wrong-seed', { otpauth: wrong.secret.reveal() });
    const mfa = await createMfa('wrong', { secretName: 'wrong-seed' });
    const ref = accountRef(mfa);

    await reconcile(mfa);
    expect(await playRun(mfa, account, 'adopt')).toMatchObject({ outcome: 'Failed', reason: 'AdoptionSeedRejected' });
    await reconcile(mfa);

    expect(await store.readActiveSeed(ref)).toBeUndefined();
    expect(await store.readPendingSeed(ref), 'the refused candidate left the store').toBeUndefined();
    expect(account.mfaEnabled(), "the person's authenticator is untouched").toBe(true);
    const again = await reconcile(mfa);
    expect(again.conditions[0]).toMatchObject({
      type: 'AutomationSucceeded',
      status: 'False',
      reason: 'AdoptionSeedRejected',
      message: expect.stringContaining("spec.mfa.adoptFrom's Secret changes"),
    });
    expect(
      jobs.filter((j) => !j.status?.conditions),
      'no second run',
    ).toEqual([]);
    expect(condition(mfa, 'SeedAdopted')).toBeUndefined();
  }, 180_000);

  it('does not adopt when MFA is off in the app, and says to drop adoptFrom', async () => {
    const account = await fixture.account();
    const seed = randomSeed();
    secretsUsed.push(seed.secret.reveal(), account.password);
    await writeSource('off-seed', { otpauth: toOtpauthUri(seed).reveal() });
    const mfa = await createMfa('off', { secretName: 'off-seed' });

    await reconcile(mfa);
    expect(await playRun(mfa, account, 'adopt')).toMatchObject({ outcome: 'Failed', reason: 'AdoptionMfaOff' });
    const step = await reconcile(mfa);

    expect(step.conditions[0]).toMatchObject({
      reason: 'AdoptionMfaOff',
      message: expect.stringContaining('Remove spec.mfa.adoptFrom'),
    });
    expect(await store.readMetadata(accountRef(mfa))).toMatchObject({ active: undefined, pending: undefined });
    expect(account.mfaEnabled()).toBe(false);
  }, 180_000);

  it('reports a malformed or unlabelled source as a permanent condition and starts nothing', async () => {
    await writeSource('bad-seed', { otpauth: 'otpauth://hotp/x?secret=JBSWY3DPEHPK3PXPJBSWY3DP&counter=1' });
    const mfa = await createMfa('malformed', { secretName: 'bad-seed' });

    const step = await reconcile(mfa);
    expect(step.conditions).toEqual([
      expect.objectContaining({
        type: 'AutomationSucceeded',
        status: 'False',
        reason: 'AdoptionSourceInvalid',
        message: expect.stringMatching(/Secret "bad-seed" \(spec\.mfa\.adoptFrom\) key "otpauth" .*HOTP/),
      }),
    ]);
    expect(step.requeueAfterMs).toBeUndefined();
    expect(jobs).toEqual([]);
    expect(await store.readMetadata(accountRef(mfa))).toMatchObject({ active: undefined, pending: undefined });

    await writeSource('bad-seed', { otpauth: 'JBSWY3DPEHPK3PXPJBSWY3DP' }, false);
    expect((await reconcile(mfa)).conditions[0]).toMatchObject({ reason: 'AdoptionSourceNotFound' });
    expect(jobs).toEqual([]);
  }, 60_000);

  it('never adopts over a seed the operator holds: adoptFrom is ignored and its Secret not read', async () => {
    const held = randomSeed();
    secretsUsed.push(held.secret.reveal());
    const mfa = await createMfa('held', { secretName: 'no-such-secret' });
    const ref = accountRef(mfa);
    await store.writePendingSeed(ref, held);
    await store.promotePendingSeed(ref);

    const step = await reconcile(mfa);

    expect(step.conditions).toContainEqual(
      expect.objectContaining({ type: 'SeedAdopted', status: 'False', reason: 'AdoptFromIgnored' }),
    );
    expect(
      jobs.map((j) => j.metadata?.labels?.['mfa-operator.io/action']),
      'the usual enable run, which signs in with the held seed',
    ).toEqual(['enable']);
    expect((await store.readActiveSeed(ref))?.seed.secret.reveal()).toBe(held.secret.reveal());
  }, 60_000);

  it('keeps every seed and recovery code it handled out of status, conditions, run objects, logs and code-service lines', () => {
    expect(secretsUsed.length).toBeGreaterThanOrEqual(10);
    const text = captured.join('\n');
    expect(text).toContain('Adopted');
    for (const value of secretsUsed) {
      for (const form of [value, value.toLowerCase(), Buffer.from(value).toString('base64')])
        expect(text.includes(form), 'a secret reached something a reader sees').toBe(false);
    }
  });
});
