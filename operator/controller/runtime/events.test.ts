import { ApiException, type EventsV1Event } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/logging/logger.ts';
import { EventRecorder, type EventRecorderOptions } from './events.ts';

/** An events.k8s.io API over a map, counting every write, as the audit log would. */
class FakeEventsApi {
  readonly events = new Map<string, EventsV1Event>();
  writes = 0;
  refuse = false;
  #held: Array<() => void> = [];
  hold = false;

  async createNamespacedEvent({ namespace, body }: { namespace: string; body: EventsV1Event }): Promise<EventsV1Event> {
    await this.#gate();
    this.writes += 1;
    if (this.refuse) throw new ApiException(403, 'forbidden', {}, {});
    const stored = JSON.parse(JSON.stringify(body)) as EventsV1Event;
    this.events.set(`${namespace}/${body.metadata!.name}`, stored);
    return stored;
  }

  async patchNamespacedEvent({
    namespace,
    name,
    body,
  }: {
    namespace: string;
    name: string;
    body: { series: EventsV1Event['series'] };
  }): Promise<EventsV1Event> {
    await this.#gate();
    this.writes += 1;
    if (this.refuse) throw new ApiException(403, 'forbidden', {}, {});
    const stored = this.events.get(`${namespace}/${name}`);
    if (!stored) throw new ApiException(404, 'not found', {}, {});
    stored.series = body.series;
    return stored;
  }

  release(): void {
    this.hold = false;
    for (const resolve of this.#held.splice(0)) resolve();
  }

  #gate(): Promise<void> {
    return this.hold ? new Promise((resolve) => this.#held.push(resolve)) : Promise.resolve();
  }

  only(): EventsV1Event {
    expect(this.events.size).toBe(1);
    return [...this.events.values()][0]!;
  }
}

const pod = (name: string, uid = `uid-${name}`) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'team-a', uid, resourceVersion: '7' },
});

let api: FakeEventsApi;
let clock: number;
let unhandled: unknown[];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

function recorder(options: Partial<EventRecorderOptions> = {}): EventRecorder {
  return new EventRecorder({
    api: api as never,
    controller: 'mfa-operator.io/controller',
    instance: 'test',
    log: createLogger('test', { level: 'silent' }),
    now: () => new Date(clock),
    ...options,
  });
}

beforeEach(() => {
  api = new FakeEventsApi();
  clock = Date.parse('2026-12-02T01:00:00Z');
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

describe("EventRecorder: client-go style Events, off the caller's path", () => {
  it('returns before the API server answers, and writes the Event afterwards', async () => {
    api.hold = true;
    const events = recorder();
    events.record(pod('a'), 'Normal', 'JobCreated', 'RunAutomation', 'Created Job a-1.');
    expect(api.writes).toBe(0);
    api.release();
    await events.idle();
    expect(api.only()).toMatchObject({
      type: 'Normal',
      reason: 'JobCreated',
      action: 'RunAutomation',
      note: 'Created Job a-1.',
      regarding: { kind: 'Pod', name: 'a', uid: 'uid-a' },
    });
  });

  it('turns a flood of the same warning into one Event with a count, not 100 writes', async () => {
    const events = recorder();
    for (let i = 0; i < 100; i += 1) {
      events.record(pod('a'), 'Warning', 'CredentialsSecretNotFound', 'CredentialsValid', 'No Secret "a-login".');
      await events.idle();
      clock += 1_000;
    }
    await events.flush();
    expect(api.only().series?.count).toBe(100);
    // The Event, the series starting at the second occurrence, and the count the flush wrote.
    expect(api.writes).toBe(3);
  });

  it('coalesces repeats queued behind a write into the write that sends them', async () => {
    const events = recorder();
    for (let i = 0; i < 100; i += 1)
      events.record(pod('a'), 'Warning', 'RateLimited', 'AutomationSucceeded', 'The app said slow down.');
    await events.flush();
    expect(api.only().series?.count).toBe(100);
    expect(api.writes).toBe(1);
  });

  it('keys a series by object, type, reason, action and note: another reason, note or object is another Event', async () => {
    const events = recorder();
    events.record(pod('a'), 'Normal', 'JobCreated', 'RunAutomation', 'Created Job a-1.');
    events.record(pod('a'), 'Normal', 'JobCreated', 'RunAutomation', 'Created Job a-2.');
    events.record(pod('a'), 'Warning', 'CredentialsSecretNotFound', 'CredentialsValid', 'missing');
    events.record(pod('a'), 'Warning', 'CredentialsKeyMissing', 'CredentialsValid', 'no password');
    events.record(pod('b'), 'Warning', 'CredentialsSecretNotFound', 'CredentialsValid', 'missing');
    await events.flush();
    expect([...api.events.values()].map((e) => `${e.regarding?.name} ${e.reason}`).sort()).toEqual([
      'a CredentialsKeyMissing',
      'a CredentialsSecretNotFound',
      'a JobCreated',
      'a JobCreated',
      'b CredentialsSecretNotFound',
    ]);
    expect(
      [...api.events.values()]
        .filter((e) => e.reason === 'JobCreated')
        .map((e) => e.note)
        .sort(),
    ).toEqual(['Created Job a-1.', 'Created Job a-2.']);
  });

  it('starts a new Event when the same reason comes back after the series window', async () => {
    const events = recorder({ seriesWindowMs: 60_000 });
    events.record(pod('a'), 'Normal', 'Ready', 'Ready', 'MFA is on.');
    await events.idle();
    clock += 61_000;
    events.record(pod('a'), 'Normal', 'Ready', 'Ready', 'MFA is on.');
    await events.flush();
    expect(api.events.size).toBe(2);
    expect([...api.events.values()].every((e) => e.series === undefined)).toBe(true);
  });

  it('lets one object burst, then one new Event per refill period, without limiting other objects', async () => {
    const events = recorder({ burst: 3, refillMs: 60_000 });
    for (let i = 0; i < 10; i += 1) events.record(pod('noisy'), 'Warning', `Reason${i}`, 'Check', 'flapping');
    events.record(pod('quiet'), 'Normal', 'Ready', 'Ready', 'fine');
    await events.flush();
    expect([...api.events.values()].filter((e) => e.regarding?.name === 'noisy')).toHaveLength(3);
    expect([...api.events.values()].filter((e) => e.regarding?.name === 'quiet')).toHaveLength(1);
    clock += 60_000;
    events.record(pod('noisy'), 'Warning', 'Later', 'Check', 'still flapping');
    events.record(pod('noisy'), 'Warning', 'EvenLater', 'Check', 'still flapping');
    await events.flush();
    expect([...api.events.values()].filter((e) => e.regarding?.name === 'noisy').map((e) => e.reason)).toEqual([
      'Reason0',
      'Reason1',
      'Reason2',
      'Later',
    ]);
  });

  it('survives an API server that refuses Events (RBAC removed): nothing thrown, no unhandled rejection, later Events still tried', async () => {
    api.refuse = true;
    const events = recorder();
    expect(() =>
      events.record(pod('a'), 'Warning', 'CredentialsSecretNotFound', 'CredentialsValid', 'missing'),
    ).not.toThrow();
    await events.idle();
    events.record(pod('a'), 'Warning', 'CredentialsSecretNotFound', 'CredentialsValid', 'missing');
    await events.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(api.writes).toBe(2);
    expect(api.events.size).toBe(0);
    expect(unhandled).toEqual([]);
    api.refuse = false;
    events.record(pod('a'), 'Warning', 'CredentialsSecretNotFound', 'CredentialsValid', 'missing');
    await events.idle();
    expect(api.events.size).toBe(1);
  });

  it('drops Events past its queue limit instead of growing without bound', async () => {
    const events = recorder({ queueLimit: 5, senders: 1 });
    for (let i = 0; i < 20; i += 1) events.record(pod(`p${i}`), 'Normal', 'Ready', 'Ready', 'fine');
    await events.idle();
    expect(api.events.size).toBe(5);
  });

  it('flushes queued Events and running counts on close, then records nothing more', async () => {
    api.hold = true;
    const events = recorder();
    events.record(pod('a'), 'Normal', 'JobCreated', 'RunAutomation', 'Created Job a-1.');
    events.record(pod('b'), 'Normal', 'JobCreated', 'RunAutomation', 'Created Job b-1.');
    events.record(pod('c'), 'Normal', 'JobCreated', 'RunAutomation', 'Created Job c-1.');
    const closed = events.close();
    api.release();
    await closed;
    expect(api.events.size).toBe(3);
    events.record(pod('d'), 'Normal', 'JobCreated', 'RunAutomation', 'Created Job d-1.');
    await events.idle();
    expect(api.events.size).toBe(3);
  });

  it('writes a running series count on close', async () => {
    const events = recorder();
    for (let i = 0; i < 5; i += 1) {
      events.record(pod('a'), 'Warning', 'RateLimited', 'AutomationSucceeded', 'slow down');
      await events.idle();
    }
    expect(api.only().series?.count).toBe(2);
    await events.close();
    expect(api.only().series?.count).toBe(5);
  });

  it('gives up flushing on close after its timeout when the API server does not answer', async () => {
    api.hold = true;
    const events = recorder();
    events.record(pod('a'), 'Normal', 'JobCreated', 'RunAutomation', 'Created Job a-1.');
    await events.close(50);
    expect(api.events.size).toBe(0);
    api.release();
  });
});
