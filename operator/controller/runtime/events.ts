import {
  ApiException,
  PatchStrategy,
  V1MicroTime,
  setHeaderOptions,
  type EventsV1Api,
  type EventsV1Event,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../../core/logging/logger.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  api: Pick<EventsV1Api, 'createNamespacedEvent' | 'patchNamespacedEvent'>;
  controller: string;
  instance: string;
  log: Logger;
  now?: () => Date;
  /** Events waiting to be written; past this, new ones are dropped (and logged), never the reconcile blocked. */
  queueLimit?: number;
  /** Writes in flight at once. */
  senders?: number;
  /** A repeat within this long of the last one is a series update of the same Event, not a new Event. */
  seriesWindowMs?: number;
  /** How often counts of a running series are written (the second occurrence is written at once). */
  heartbeatMs?: number;
  /** New Events one object may produce at once, then one per refillMs (a token bucket per object). */
  burst?: number;
  refillMs?: number;
  /** Series and token buckets remembered, least recently used dropped first. */
  cacheLimit?: number;
}

/** One Event as the API server has it (written) and as observed here (count). */
interface Series {
  key: string;
  namespace: string;
  body: EventsV1Event;
  count: number;
  written: number;
  lastObserved: Date;
  queued: boolean;
  sending: boolean;
  /** Its write failed: nothing more is sent for it. */
  dropped: boolean;
}

interface Bucket {
  tokens: number;
  at: number;
}

const DEFAULTS: Required<
  Pick<
    EventRecorderOptions,
    'queueLimit' | 'senders' | 'seriesWindowMs' | 'heartbeatMs' | 'burst' | 'refillMs' | 'cacheLimit'
  >
> = {
  queueLimit: 1000,
  senders: 2,
  seriesWindowMs: 6 * 60_000,
  heartbeatMs: 60_000,
  burst: 25,
  refillMs: 5 * 60_000,
  cacheLimit: 4096,
};

/**
 * Emits events.k8s.io/v1 Events off the reconcile path, in the manner of client-go's recorder: `record` only queues
 * and returns; a repeat of the same Event (reason and note) about the same object becomes a series count on one Event; each object
 * has a token bucket for new Events. The note is built by the operator from reasons and names only, never a secret.
 * Write failures are logged and dropped: an Event is best effort and never fails or delays a reconcile.
 */
export class EventRecorder {
  readonly #o: EventRecorderOptions & typeof DEFAULTS;
  readonly #series = new Map<string, Series>();
  readonly #buckets = new Map<string, Bucket>();
  readonly #queue: Series[] = [];
  readonly #idleWaiters: Array<() => void> = [];
  #sending = 0;
  #pumpScheduled = false;
  #heartbeat?: NodeJS.Timeout;
  #closed = false;

  constructor(options: EventRecorderOptions) {
    this.#o = { ...DEFAULTS, ...options };
  }

  /** Queues an Event about obj; returns at once. */
  record(obj: KubernetesObject, type: EventType, reason: string, action: string, note: string): void {
    if (this.#closed) return;
    const meta = obj.metadata ?? {};
    const namespace = meta.namespace ?? 'default';
    const objectKey = meta.uid ?? `${obj.kind}/${namespace}/${meta.name}`;
    // As client-go's EventCorrelator: only an identical Event (note included) becomes a count, so the audit
    // trail keeps each distinct note (a second Job's name); the per-object token bucket bounds the rest.
    const key = [objectKey, type, reason, action, note].join('\u0000');
    const now = this.#now();
    const seen = this.#touch(this.#series, key);
    if (seen && now.getTime() - seen.lastObserved.getTime() <= this.#o.seriesWindowMs) {
      seen.count += 1;
      seen.lastObserved = now;
      this.#schedule(seen);
      return;
    }
    if (!this.#takeToken(objectKey, now.getTime())) {
      this.#o.log.debug({ reason, object: `${namespace}/${meta.name}` }, 'event dropped: too many for this object');
      return;
    }
    const series: Series = {
      key,
      namespace,
      count: 1,
      written: 0,
      lastObserved: now,
      queued: false,
      sending: false,
      dropped: false,
      body: {
        metadata: { name: `${meta.name}.${now.getTime().toString(16)}${randomBytes(2).toString('hex')}`, namespace },
        eventTime: new V1MicroTime(now.getTime()),
        reportingController: this.#o.controller,
        reportingInstance: this.#o.instance,
        type,
        reason,
        action,
        note: note.slice(0, 1024),
        regarding: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: meta.name,
          namespace,
          uid: meta.uid,
          resourceVersion: meta.resourceVersion,
        },
      },
    };
    this.#remember(this.#series, key, series);
    this.#schedule(series);
    this.#startHeartbeat();
  }

  /** Writes every count not yet written, and resolves once nothing is queued or in flight. */
  async flush(): Promise<void> {
    for (const series of this.#series.values())
      if (series.count > series.written && series.written > 0) this.#schedule(series, true);
    await this.idle();
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && this.#sending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** On shutdown: flushes what is queued for at most timeoutMs (an unreachable API server must not hold the exit), then records nothing more. */
  async close(timeoutMs = 5_000): Promise<void> {
    clearInterval(this.#heartbeat);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.flush(), timeout]);
    clearTimeout(timer);
    this.#closed = true;
  }

  /**
   * Queues a write when one is due: a new Event, or the second occurrence (the series starts), or `force` (heartbeat,
   * flush) for a count not yet written. A series already queued or in flight picks the latest count up when sent.
   */
  #schedule(series: Series, force = false): void {
    if (series.queued || series.sending || series.dropped || !writeDue(series, force)) return;
    if (this.#queue.length >= this.#o.queueLimit) {
      this.#o.log.warn(
        { reason: series.body.reason, object: `${series.namespace}/${series.body.regarding?.name}` },
        'event dropped: queue full',
      );
      if (series.written === 0) {
        series.dropped = true;
        this.#series.delete(series.key);
      }
      return;
    }
    series.queued = true;
    this.#queue.push(series);
    // Sent from a microtask: repeats recorded in the same tick ride along in the first write.
    if (!this.#pumpScheduled) {
      this.#pumpScheduled = true;
      queueMicrotask(() => {
        this.#pumpScheduled = false;
        this.#pump();
      });
    }
  }

  #pump(): void {
    while (this.#sending < this.#o.senders && this.#queue.length > 0) {
      const series = this.#queue.shift()!;
      series.queued = false;
      series.sending = true;
      this.#sending += 1;
      void this.#send(series).finally(() => {
        series.sending = false;
        this.#sending -= 1;
        this.#schedule(series);
        this.#pump();
        if (this.#queue.length === 0 && this.#sending === 0)
          for (const resolve of this.#idleWaiters.splice(0)) resolve();
      });
    }
  }

  /** Never rejects. */
  async #send(series: Series): Promise<void> {
    const count = series.count;
    const seriesField = { count, lastObservedTime: new V1MicroTime(series.lastObserved.getTime()) };
    try {
      if (series.written === 0) {
        await this.#o.api.createNamespacedEvent({
          namespace: series.namespace,
          body: count > 1 ? { ...series.body, series: seriesField } : series.body,
        });
      } else {
        await this.#o.api.patchNamespacedEvent(
          {
            namespace: series.namespace,
            name: series.body.metadata!.name!,
            body: { series: { count, lastObservedTime: seriesField.lastObservedTime.toISOString() } },
          },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      }
      series.written = count;
    } catch (err: unknown) {
      const detail =
        err instanceof ApiException ? `HTTP ${err.code}` : err instanceof Error ? err.message : String(err);
      this.#o.log.warn(
        { reason: series.body.reason, object: `${series.namespace}/${series.body.regarding?.name}`, err: detail },
        'could not record event',
      );
      // Forget it, so the next occurrence starts a new Event rather than patching one that may not exist.
      series.dropped = true;
      if (this.#series.get(series.key) === series) this.#series.delete(series.key);
    }
  }

  #takeToken(objectKey: string, now: number): boolean {
    const { burst, refillMs } = this.#o;
    const bucket = this.#touch(this.#buckets, objectKey) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) / refillMs);
    bucket.at = now;
    this.#remember(this.#buckets, objectKey, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Counts of running series are written every heartbeat; series past their window are forgotten. */
  #startHeartbeat(): void {
    if (this.#heartbeat) return;
    this.#heartbeat = setInterval(() => {
      const now = this.#now().getTime();
      for (const series of [...this.#series.values()]) {
        if (series.count > series.written && series.written > 0) this.#schedule(series, true);
        else if (!series.queued && !series.sending && now - series.lastObserved.getTime() > this.#o.seriesWindowMs)
          this.#series.delete(series.key);
      }
    }, this.#o.heartbeatMs);
    this.#heartbeat.unref();
  }

  /** A map used as an LRU: a hit moves to the back. */
  #touch<V>(map: Map<string, V>, key: string): V | undefined {
    const value = map.get(key);
    if (value !== undefined) {
      map.delete(key);
      map.set(key, value);
    }
    return value;
  }

  #remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    while (map.size > this.#o.cacheLimit) map.delete(map.keys().next().value!);
  }

  #now(): Date {
    return (this.#o.now ?? (() => new Date()))();
  }
}

/** A new Event, the second occurrence (the series starts), or on a heartbeat or flush any count not yet written. */
function writeDue(series: Series, force: boolean): boolean {
  return series.written === 0 || (series.written === 1 && series.count > 1) || (force && series.count > series.written);
}
