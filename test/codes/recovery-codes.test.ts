import { CustomObjectsApi, EventsV1Api, type EventsV1Event } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagedAccountMfa } from '../../operator/api/v1alpha1/types.generated.ts';
import { createLogger } from '../../core/logging/logger.ts';
import { noAutomation } from '../../operator/controller/managedaccountmfa/automation.ts';
import { ManagedAccountMfaReconciler } from '../../operator/controller/managedaccountmfa/reconciler.ts';
import type { EventRecorder } from '../../operator/controller/runtime/events.ts';
import { randomRecoveryCodes, randomSeed } from '../stores/random-material.ts';
import { waitFor } from '../support/wait.ts';
import { CodeServiceFixture } from './code-service-fixture.ts';

const NS = 'break-glass';
const fixture = new CodeServiceFixture();
const tokens: Record<string, string> = {};
/** Every recovery code stored in this file, for the leak check. */
const stored = new Map<string, readonly string[]>();

async function account(name: string, count: number): Promise<readonly string[]> {
  await fixture.account(NS, name, randomSeed());
  const codes = randomRecoveryCodes(count).reveal();
  await fixture.storeRecoveryCodes(NS, name, codes);
  stored.set(name, codes);
  return codes;
}

function custom(): CustomObjectsApi {
  return fixture.cp.kubeConfig().makeApiClient(CustomObjectsApi);
}

const read = (name: string): Promise<ManagedAccountMfa> => fixture.readAccount(NS, name);
const accountObject = (name: string) => ({
  group: 'mfa-operator.io',
  version: 'v1alpha1',
  plural: 'managedaccountmfas',
  namespace: NS,
  name,
});

async function events(name: string): Promise<EventsV1Event[]> {
  const list = await fixture.cp.kubeConfig().makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
  return list.items.filter((e) => e.regarding?.name === name && e.reason === 'RecoveryCodeHandedOut');
}

/** The controller's reconcile against the real API server, with `cached` as its informer's copy; no automation. */
function reconcile(cached: ManagedAccountMfa) {
  const reconciler = new ManagedAccountMfaReconciler({
    custom: custom(),
    cached: () => structuredClone(cached),
    lookups: {
      secret: () => undefined,
      store: () => undefined,
      clusterStore: () => undefined,
      namespace: () => undefined,
      knownConnector: () => true,
      connectorIds: () => ['demo'],
    },
    automation: noAutomation,
    events: { record: () => undefined } as unknown as EventRecorder,
    log: createLogger('test', { level: 'silent' }),
  });
  return reconciler.sync(NS, cached.metadata.name!, new AbortController().signal);
}

const handOut = (name: string, token: string | undefined, service?: { port: number }) =>
  service
    ? fixture.get(fixture.recoveryCodePath(NS, name), token, { method: 'POST', service })
    : fixture.post(fixture.recoveryCodePath(NS, name), token);

beforeAll(async () => {
  await fixture.start({ ratePerMinute: 600, burst: 100 });
  await fixture.namespace(NS);
  for (const sa of ['keeper', 'reader', 'nobody']) tokens[sa] = await fixture.serviceAccountToken(NS, sa);
  await fixture.allowRecoveryCodes(NS, 'keeper');
  // The reader may get TOTP codes for every account, and nothing more.
  await fixture.allowCodes(NS, 'reader');
}, 180_000);
afterAll(() => fixture.stop());

describe('recovery code hand-out', () => {
  it('gives an allowed caller the first unused code, its index and how many remain', async () => {
    const codes = await account('single', 5);

    const first = await handOut('single', tokens.keeper);
    const second = await handOut('single', tokens.keeper);

    expect(first.status).toBe(200);
    expect(first.headers['cache-control']).toBe('no-store');
    expect(first.json()).toEqual({ code: codes[0], index: 0, remaining: 4 });
    expect(second.json()).toEqual({ code: codes[1], index: 1, remaining: 3 });
    const status = (await read('single')).status?.recoveryCodes;
    expect(status).toMatchObject({ count: 5, remaining: 3, used: [0, 1] });
    expect(status?.lastHandedOutAt).toBeDefined();
  });

  it('refuses a caller who may only get TOTP codes with 403 naming the subresource and verb', async () => {
    await account('guarded', 3);
    const totp = await fixture.get(fixture.codePath(NS, 'guarded'), tokens.reader);
    const answer = await handOut('guarded', tokens.reader);

    expect(totp.status).toBe(200);
    expect(answer.status).toBe(403);
    expect(answer.json().reason).toBe('Forbidden');
    expect(answer.json().message).toContain(
      `it needs create on managedaccountmfas/recovery-code (group mfa-operator.io) in namespace ${NS}`,
    );
    expect(answer.json().message).toContain(`system:serviceaccount:${NS}:reader`);
    expect((await read('guarded')).status?.recoveryCodes?.used ?? []).toEqual([]);
  });

  it('answers 401 without a token and 405 to a GET', async () => {
    await account('locked', 3);
    const none = await handOut('locked', undefined);
    const get = await fixture.get(fixture.recoveryCodePath(NS, 'locked'), tokens.keeper);

    expect(none.status).toBe(401);
    expect(none.json().reason).toBe('Unauthenticated');
    expect(get.status).toBe(405);
    expect((await read('locked')).status?.recoveryCodes?.used ?? []).toEqual([]);
  });

  it('hands ten concurrent requests over two replicas ten distinct codes, each claimed once', async () => {
    const codes = await account('race', 12);
    const replica = await fixture.startService();

    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => handOut('race', tokens.keeper, i % 2 ? replica : undefined)),
    );

    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    const bodies = answers.map((a) => a.json() as { code: string; index: number; remaining: number });
    const indices = bodies.map((b) => b.index).sort((a, b) => a - b);
    expect(indices).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const b of bodies) expect(b.code).toBe(codes[b.index]);
    expect(new Set(bodies.map((b) => b.code)).size).toBe(10);
    const used = (await read('race')).status?.recoveryCodes?.used ?? [];
    expect([...used].sort((a, b) => a - b)).toEqual(indices);
    expect((await read('race')).status?.recoveryCodes?.remaining).toBe(2);
  });

  it('refuses with 410 and what to do once every code is used, handing out nothing', async () => {
    await account('spent', 2);
    await handOut('spent', tokens.keeper);
    await handOut('spent', tokens.keeper);

    const answer = await handOut('spent', tokens.keeper);

    expect(answer.status).toBe(410);
    expect(answer.json().reason).toBe('RecoveryCodesUsedUp');
    expect(answer.json().message).toContain('mfa-operator.io/regenerate-recovery-codes');
    expect(answer.json()).not.toHaveProperty('code');
    expect((await read('spent')).status?.recoveryCodes?.used).toEqual([0, 1]);
  });

  it('hands a person no code while a regeneration runs, and one of the new set once it is stored', async () => {
    const old = await account('regenerating', 3);
    const mfa = await read('regenerating');
    const running = {
      type: 'RecoveryCodesRegenerated',
      status: 'Unknown',
      reason: 'RunInProgress',
      message: 'Job regenerating-regenerate-1 (attempt 1) is regenerating the recovery codes.',
      lastTransitionTime: new Date().toISOString(),
    } as const;
    await custom().replaceNamespacedCustomObjectStatus({
      ...accountObject('regenerating'),
      body: { ...mfa, status: { ...mfa.status, conditions: [...(mfa.status?.conditions ?? []), running] } },
    });

    const refused = await handOut('regenerating', tokens.keeper);
    const renewed = randomRecoveryCodes(3).reveal();
    await fixture.storeRecoveryCodes(NS, 'regenerating', renewed);
    stored.set('regenerating', [...old, ...renewed]);
    const after = await read('regenerating');
    await custom().replaceNamespacedCustomObjectStatus({
      ...accountObject('regenerating'),
      body: {
        ...after,
        status: {
          ...after.status,
          conditions: after.status!.conditions!.map((c) =>
            c.type === running.type ? { ...c, status: 'True', reason: 'RecoveryCodesRegenerated' } : c,
          ),
        },
      },
    });
    const served = await handOut('regenerating', tokens.keeper);

    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('15');
    expect(refused.json()).toMatchObject({ reason: 'RecoveryCodesRegenerating' });
    expect(refused.json().message).toContain('every code of the stored set is about to stop working');
    expect(refused.json()).not.toHaveProperty('code');
    expect(served.status).toBe(200);
    expect(renewed).toContain(served.json().code);
  });

  it('refuses an account with no stored recovery codes with 404 saying why', async () => {
    await fixture.account(NS, 'codeless', randomSeed());

    const answer = await handOut('codeless', tokens.keeper);

    expect(answer.status).toBe(404);
    expect(answer.json().reason).toBe('NoRecoveryCodes');
    expect(answer.json().message).toContain('no stored recovery codes');
  });

  it('records each hand-out in history, an Event and the audit log with user and index', async () => {
    await account('audited', 4);
    const user = `system:serviceaccount:${NS}:keeper`;

    await handOut('audited', tokens.keeper);
    await handOut('audited', tokens.keeper);

    const history = (await read('audited')).status?.history ?? [];
    expect(history.map((h) => [h.trigger, h.user, h.recoveryCodeIndex])).toEqual([
      ['RecoveryCodeHandedOut', user, 1],
      ['RecoveryCodeHandedOut', user, 0],
    ]);
    const notes = await waitFor('both hand-out Events', async () => {
      const found = (await events('audited')).map((e) => e.note ?? '');
      return found.length === 2 ? found.sort() : undefined;
    });
    expect(notes[0]).toContain(`(index 0) was handed out to ${user}`);
    expect(notes[1]).toContain(`(index 1) was handed out to ${user}`);
    const audit = fixture.auditRecords().filter((r) => r.name === 'audited');
    expect(audit.map((r) => [r.purpose, r.result, r.user, r.index])).toEqual([
      ['recovery', 'issued', user, 0],
      ['recovery', 'issued', user, 1],
    ]);
  });

  it('keeps the used record through a reconcile, and a reconcile from a stale copy cannot wipe it', async () => {
    await account('kept', 4);
    const stale = await read('kept');
    await handOut('kept', tokens.keeper);

    await expect(reconcile(stale)).rejects.toMatchObject({ code: 409 });
    await reconcile(await read('kept'));

    const after = await read('kept');
    expect(after.status?.conditions?.find((c) => c.type === 'CredentialsValid')).toBeDefined();
    expect(after.status?.recoveryCodes).toMatchObject({ used: [0], remaining: 3, count: 4 });
  });

  it('turns RecoveryCodesLow True when fewer than the threshold remain', async () => {
    await account('dwindling', 4);
    const low = async () =>
      (await read('dwindling')).status?.conditions?.find((c) => c.type === 'RecoveryCodesLow')?.status;

    await handOut('dwindling', tokens.keeper);
    expect(await low()).toBe('False');
    await handOut('dwindling', tokens.keeper);
    expect(await low()).toBe('True');
    // The controller derives it too: a reconcile keeps it and says how many are left.
    await reconcile(await read('dwindling'));
    const condition = (await read('dwindling')).status?.conditions?.find((c) => c.type === 'RecoveryCodesLow');
    expect(condition).toMatchObject({ status: 'True', reason: 'BelowThreshold' });
    expect(condition?.message).toContain('2 of 4 stored recovery codes remain (threshold 3)');
  });

  it('never lets a recovery code out but the one each answer hands out', async () => {
    const resources = await Promise.all([...stored.keys()].map(async (n) => JSON.stringify(await read(n))));

    const { handedOut, leaked } = await fixture.recoveryCodeLeaks(NS, [...stored.values()].flat(), resources);

    expect(handedOut).toBeGreaterThan(10);
    expect(leaked).toEqual([]);
  });
});
