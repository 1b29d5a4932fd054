import { ApiException, type CustomObjectsApi, type EventsV1Event, type V1Secret } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ManagedAccountMfa } from '../../api/v1alpha1/types.generated.ts';
import { createLogger } from '../../../core/logging/logger.ts';
import { EventRecorder } from '../runtime/events.ts';
import { noAutomation, type AutomationDriver, type AutomationStep, type FinalizeStep } from './automation.ts';
import { ManagedAccountMfaReconciler, olderVersion, type ReconcilerDeps } from './reconciler.ts';

const NS = 'team-a';
const LOGIN: V1Secret = {
  metadata: { name: 'brand-login', namespace: NS, labels: { 'mfa-operator.io/credentials': 'true' } },
  data: { username: '*', password: '*' },
};

/**
 * The API server as the reconciler sees it: one ManagedAccountMfa with a resourceVersion, its Events, and every
 * write counted as the audit log would count it. `cached` is an informer that has caught up.
 */
class FakeApiServer {
  mfa: ManagedAccountMfa;
  readonly events: EventsV1Event[] = [];
  writes: string[] = [];
  eventsRefused = false;
  eventsHang = false;
  /** Every version written, oldest first: a lagging informer serves one of these. */
  readonly versions: ManagedAccountMfa[] = [];
  lagging = false;
  #rv = 1;

  constructor() {
    this.mfa = {
      apiVersion: 'mfa-operator.io/v1alpha1',
      kind: 'ManagedAccountMfa',
      metadata: { name: 'brand', namespace: NS, uid: 'uid-brand', generation: 1, resourceVersion: '1' },
      spec: { connector: 'demo', account: { credentialsSecretRef: { name: 'brand-login' } } },
    };
  }

  get custom(): CustomObjectsApi {
    return {
      patchNamespacedCustomObject: async ({
        body,
      }: {
        body: { metadata: { finalizers: string[]; resourceVersion: string } };
      }) => {
        this.writes.push('patch managedaccountmfas');
        this.#checkVersion(body.metadata.resourceVersion);
        this.versions.push(this.mfa);
        this.mfa = {
          ...structuredClone(this.mfa),
          metadata: { ...this.mfa.metadata, finalizers: body.metadata.finalizers, resourceVersion: this.#next() },
        };
        return structuredClone(this.mfa);
      },
      replaceNamespacedCustomObjectStatus: async ({ body }: { body: ManagedAccountMfa }) => {
        this.writes.push('update managedaccountmfas/status');
        this.#checkVersion(body.metadata.resourceVersion);
        this.versions.push(this.mfa);
        this.mfa = {
          ...structuredClone(this.mfa),
          status: structuredClone(body.status),
          metadata: { ...this.mfa.metadata, resourceVersion: this.#next() },
        };
        return structuredClone(this.mfa);
      },
    } as unknown as CustomObjectsApi;
  }

  get eventsApi() {
    const respond = async (verb: string, apply: () => EventsV1Event): Promise<EventsV1Event> => {
      this.writes.push(verb);
      if (this.eventsHang) return new Promise(() => undefined);
      if (this.eventsRefused) throw new ApiException(403, 'events.events.k8s.io is forbidden', {}, {});
      return apply();
    };
    return {
      createNamespacedEvent: ({ body }: { body: EventsV1Event }) =>
        respond('create events', () => {
          this.events.push(structuredClone(body));
          return body;
        }),
      patchNamespacedEvent: ({ name, body }: { name: string; body: Pick<EventsV1Event, 'series'> }) =>
        respond('patch events', () => {
          const event = this.events.find((e) => e.metadata?.name === name)!;
          event.series = body.series;
          return event;
        }),
    };
  }

  /** The informer's copy: the latest, or while lagging the one before the last write. */
  cached(): ManagedAccountMfa {
    return structuredClone(this.lagging ? this.versions.at(-1)! : this.mfa);
  }

  #checkVersion(rv: string | undefined): void {
    if (rv !== undefined && rv !== this.mfa.metadata.resourceVersion) throw new ApiException(409, 'conflict', {}, {});
  }

  #next(): string {
    this.#rv += 1;
    return String(this.#rv);
  }
}

let api: FakeApiServer;
let secrets: V1Secret[];
let events: EventRecorder;
let unhandled: unknown[];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

function depsOf(automation: AutomationDriver): ReconcilerDeps {
  return {
    custom: api.custom,
    cached: () => api.cached(),
    lookups: {
      secret: (ns, name) => secrets.find((s) => s.metadata?.namespace === ns && s.metadata?.name === name),
      store: () => undefined,
      clusterStore: () => undefined,
      namespace: () => undefined,
      knownConnector: (id) => id === 'demo',
      connectorIds: () => ['demo'],
    },
    automation,
    events,
    log: createLogger('test', { level: 'silent' }),
    now: () => new Date('2026-12-02T01:00:00Z'),
  };
}

const reconciler = (automation: AutomationDriver = noAutomation) => new ManagedAccountMfaReconciler(depsOf(automation));

const sync = (r: ManagedAccountMfaReconciler) => r.sync(NS, 'brand', new AbortController().signal);

beforeEach(() => {
  api = new FakeApiServer();
  secrets = [LOGIN];
  events = new EventRecorder({
    api: api.eventsApi as never,
    controller: 'mfa-operator.io/controller',
    instance: 'test',
    log: createLogger('test', { level: 'silent' }),
  });
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

describe('ManagedAccountMfaReconciler: writes per resource', () => {
  it('reaches the validated state in three writes: the finalizer, one status, one Event', async () => {
    await sync(reconciler());
    await events.flush();
    expect(api.writes).toEqual(['patch managedaccountmfas', 'update managedaccountmfas/status', 'create events']);
    const ready = api.mfa.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'Unknown', reason: 'AutomationNotConfigured', observedGeneration: 1 });
    expect(api.mfa.status?.conditions?.map((c) => c.type)).toEqual([
      'CredentialsValid',
      'SecretStoreReady',
      'AutomationSucceeded',
      'Ready',
    ]);
    expect(api.events.map((e) => `${e.type} ${e.reason}`)).toEqual(['Normal AutomationNotConfigured']);
  });

  it('writes nothing on a resync when nothing changed', async () => {
    const r = reconciler();
    await sync(r);
    await events.flush();
    api.writes = [];
    for (let i = 0; i < 5; i += 1) await sync(r);
    await events.flush();
    expect(api.writes).toEqual([]);
  });

  it('writes nothing when its cache has not yet seen its own last write, and syncs once it has', async () => {
    const r = reconciler();
    await sync(r);
    api.writes = [];
    api.lagging = true;
    expect(await sync(r)).toEqual({ requeueAfterMs: expect.any(Number) });
    expect(api.writes).toEqual([]);
    api.lagging = false;
    expect(await sync(r)).toEqual({});
    await events.flush();
    expect(api.writes).toEqual([]);
  });

  it('re-checking a missing credentials Secret 100 times leaves one warning Event, written once', async () => {
    secrets = [];
    const r = reconciler();
    for (let i = 0; i < 100; i += 1) {
      await sync(r);
      await events.idle();
    }
    await events.flush();
    expect(api.events.map((e) => `${e.type} ${e.reason}`)).toEqual(['Warning CredentialsSecretNotFound']);
    expect(api.writes.filter((w) => w.endsWith('events'))).toEqual(['create events']);
  });

  it('neither fails nor waits when the API server refuses Events (RBAC removed), and leaves no unhandled rejection', async () => {
    api.eventsRefused = true;
    await expect(sync(reconciler())).resolves.toEqual({});
    await events.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(api.mfa.status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('AutomationNotConfigured');
    expect(api.writes).toContain('create events');
    expect(unhandled).toEqual([]);
  });

  it('finishes the reconcile while an Event write hangs', async () => {
    api.eventsHang = true;
    await expect(sync(reconciler())).resolves.toEqual({});
    expect(api.mfa.metadata.finalizers).toContain('mfa-operator.io/finalizer');
    expect(api.mfa.status?.conditions?.find((c) => c.type === 'Ready')).toBeDefined();
  });

  it('records a run milestone as the one Event of a first visit that starts a run', async () => {
    const launching: AutomationDriver = {
      ...noAutomation,
      async step() {
        return {
          conditions: [
            {
              type: 'AutomationSucceeded',
              status: 'Unknown',
              reason: 'RunInProgress',
              message: 'Job brand-1 (attempt 1) started.',
            },
          ],
          events: [{ type: 'Normal', reason: 'JobCreated', action: 'RunAutomation', note: 'Created Job brand-1.' }],
        };
      },
    };
    await sync(reconciler(launching));
    await events.flush();
    expect(api.writes).toEqual(['patch managedaccountmfas', 'update managedaccountmfas/status', 'create events']);
    expect(api.events.map((e) => e.reason)).toEqual(['JobCreated']);
  });
});

describe('olderVersion: etcd resourceVersions compared as integers', () => {
  it.each([
    ['9', '10', true],
    ['10', '9', false],
    ['10', '10', false],
    ['123', '124', true],
    [undefined, '5', false],
    ['abc', '5', false],
  ] as const)('%s older than %s: %s', (a, b, expected) => {
    expect(olderVersion(a, b)).toBe(expected);
  });
});

/** A driver that answers what a test gives it and records what it was asked, into the API's write log for order. */
function recordingDriver(answer: {
  step?: AutomationStep;
  finalize?: FinalizeStep;
}): AutomationDriver & { asked: string[] } {
  const asked: string[] = [];
  const withFollowUp = <T extends AutomationStep>(s: T): T => ({
    ...s,
    afterStatusWritten: async () => {
      api.writes.push('afterStatusWritten');
    },
  });
  return {
    asked,
    async step() {
      asked.push('step');
      return withFollowUp(answer.step ?? { conditions: [] });
    },
    async finalize() {
      asked.push('finalize');
      return withFollowUp(answer.finalize ?? { done: true, conditions: [] });
    },
  };
}

const condition = (type: string) => api.mfa.status?.conditions?.find((c) => c.type === type);
/** Writes to the resource and the step's follow-up, in order; Events are sent off the reconcile path. */
const resourceWrites = () => api.writes.filter((w) => !w.endsWith(' events'));

describe('ManagedAccountMfaReconciler: what a sync decides', () => {
  it("asks the driver nothing while a reference is broken, and Ready carries the broken one's reason", async () => {
    secrets = [];
    const driver = recordingDriver({});

    await sync(reconciler(driver));

    expect(driver.asked).toEqual([]);
    expect(condition('CredentialsValid')).toMatchObject({ status: 'False', reason: 'CredentialsSecretNotFound' });
    expect(condition('Ready')).toMatchObject({ status: 'False', reason: 'CredentialsSecretNotFound' });
  });

  it('an unknown connector is reported on CredentialsValid, before the credentials are looked at', async () => {
    api.mfa.spec.connector = 'nope';
    secrets = [];

    await sync(reconciler(recordingDriver({})));

    expect(condition('CredentialsValid')).toMatchObject({
      status: 'False',
      reason: 'UnknownConnector',
      message: expect.stringContaining('known: demo'),
    });
  });

  it("writes the step's conditions and status fields, runs its follow-up only after the write, and passes its requeue on", async () => {
    const driver = recordingDriver({
      step: {
        conditions: [
          { type: 'AutomationSucceeded', status: 'False', reason: 'RateLimited', message: 'Retrying in 30s.' },
        ],
        status: { mfaState: 'Enabled' },
        requeueAfterMs: 30_000,
      },
    });

    expect(await sync(reconciler(driver))).toEqual({ requeueAfterMs: 30_000 });

    expect(resourceWrites()).toEqual([
      'patch managedaccountmfas',
      'update managedaccountmfas/status',
      'afterStatusWritten',
    ]);
    expect(api.mfa.status).toMatchObject({ mfaState: 'Enabled', observedGeneration: 1 });
    expect(condition('Ready')).toMatchObject({
      status: 'False',
      reason: 'RateLimited',
      lastTransitionTime: '2026-12-02T01:00:00Z',
    });
  });

  it('drops AdoptFromIgnored once spec.mfa.adoptFrom is removed, and keeps a SeedAdopted that recorded an adoption', async () => {
    const ignored = {
      type: 'SeedAdopted',
      status: 'False',
      reason: 'AdoptFromIgnored',
      message: 'spec.mfa.adoptFrom is ignored. Remove spec.mfa.adoptFrom.',
    } as const;
    const driver = recordingDriver({ step: { conditions: [ignored] } });
    api.mfa.spec.mfa = { adoptFrom: { secretName: 'phone-seed' } };
    await sync(reconciler(driver));
    expect(condition('SeedAdopted')).toMatchObject({ reason: 'AdoptFromIgnored' });

    delete api.mfa.spec.mfa;
    await sync(reconciler(recordingDriver({})));
    expect(condition('SeedAdopted')).toBeUndefined();

    const adopted = {
      type: 'SeedAdopted',
      status: 'True',
      reason: 'Adopted',
      message: 'The Secret may be deleted.',
    } as const;
    await sync(reconciler(recordingDriver({ step: { conditions: [adopted] } })));
    await sync(reconciler(recordingDriver({})));
    expect(condition('SeedAdopted'), 'the record of an adoption stays after adoptFrom is removed').toMatchObject({
      reason: 'Adopted',
    });
  });

  it('a resource that is gone from the cache: nothing to do', async () => {
    const driver = recordingDriver({});
    const r = new ManagedAccountMfaReconciler({ ...depsOf(driver), cached: () => undefined });

    expect(await sync(r)).toEqual({});
    expect([api.writes, driver.asked]).toEqual([[], []]);
  });
});

describe('ManagedAccountMfaReconciler: deletion', () => {
  beforeEach(() => {
    api.mfa.metadata.finalizers = ['mfa-operator.io/finalizer', 'other.io/keep'];
    api.mfa.metadata.deletionTimestamp = new Date('2026-12-02T01:00:00Z');
  });

  it('while the driver is not done: status written, the finalizer kept, and a requeue', async () => {
    const driver = recordingDriver({
      finalize: {
        done: false,
        requeueAfterMs: 5_000,
        conditions: [
          {
            type: 'AutomationSucceeded',
            status: 'Unknown',
            reason: 'RunInProgress',
            message: 'Deletion waits for Job x.',
          },
        ],
      },
    });

    expect(await sync(reconciler(driver))).toEqual({ requeueAfterMs: 5_000 });

    expect(driver.asked).toEqual(['finalize']);
    expect(resourceWrites()).toEqual(['update managedaccountmfas/status', 'afterStatusWritten']);
    expect(api.mfa.metadata.finalizers).toContain('mfa-operator.io/finalizer');
  });

  it('once the driver is done: its follow-up first, then only its own finalizer removed', async () => {
    await sync(reconciler(recordingDriver({})));

    expect(resourceWrites()).toEqual(['afterStatusWritten', 'patch managedaccountmfas']);
    expect(api.mfa.metadata.finalizers).toEqual(['other.io/keep']);
  });

  it('without its finalizer: the driver is not asked, nothing is written', async () => {
    api.mfa.metadata.finalizers = ['other.io/keep'];
    const driver = recordingDriver({});

    await sync(reconciler(driver));

    expect([api.writes, driver.asked]).toEqual([[], []]);
  });

  it('the resource already gone when the finalizer is removed (404): done, no error', async () => {
    const r = new ManagedAccountMfaReconciler({
      ...depsOf(recordingDriver({})),
      custom: {
        ...api.custom,
        patchNamespacedCustomObject: async () => {
          throw new ApiException(404, 'not found', {}, {});
        },
      } as unknown as CustomObjectsApi,
    });

    await expect(sync(r)).resolves.toEqual({});
  });
});
