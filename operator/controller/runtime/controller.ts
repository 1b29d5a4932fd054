import type { Logger } from '../../../core/logging/logger.ts';
import type { OperatorMetrics } from '../../metrics/metrics.ts';
import { WorkQueue } from './workqueue.ts';

/** What a sync asks of the queue: nothing (done until the next event), or a requeue after a delay. */
export interface SyncResult {
  requeueAfterMs?: number;
}

export type SyncFn = (key: string, signal: AbortSignal) => Promise<SyncResult>;

export interface ControllerOptions {
  name: string;
  workers: number;
  sync: SyncFn;
  log: Logger;
  metrics: OperatorMetrics;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Runs N workers over a keyed queue. A sync that throws is retried with per-key exponential backoff
 * (transient errors); permanent failures are reported in status by the sync itself and not thrown.
 */
export class Controller {
  readonly queue: WorkQueue;
  readonly #options: ControllerOptions;
  readonly #stop = new AbortController();
  #running: Promise<void>[] = [];

  constructor(options: ControllerOptions) {
    this.#options = options;
    const { metrics, name } = options;
    this.queue = new WorkQueue({
      baseBackoffMs: options.baseBackoffMs,
      maxBackoffMs: options.maxBackoffMs,
      hooks: {
        onAdd: () => metrics.queueAdds.inc({ controller: name }),
        onRetry: () => metrics.queueRetries.inc({ controller: name }),
        onDepth: (depth) => metrics.queueDepth.set({ controller: name }, depth),
      },
    });
  }

  start(): void {
    this.#running = Array.from({ length: this.#options.workers }, () => this.#work());
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.queue.shutDown();
    await Promise.all(this.#running);
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.#syncOne(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  async #syncOne(key: string): Promise<void> {
    const { name, sync, log, metrics } = this.#options;
    const end = metrics.reconcileDuration.startTimer({ controller: name });
    try {
      const result = await sync(key, this.#stop.signal);
      this.queue.forget(key);
      if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
      metrics.reconcileTotal.inc({
        controller: name,
        result: result.requeueAfterMs === undefined ? 'success' : 'requeue_after',
      });
      end({ result: 'success' });
    } catch (err: unknown) {
      const delay = this.queue.addRateLimited(key);
      metrics.reconcileTotal.inc({ controller: name, result: 'error' });
      metrics.reconcileErrors.inc({ controller: name });
      end({ result: 'error' });
      log.warn(
        { resource: key, err: err instanceof Error ? err.message : String(err), retryInMs: delay },
        'reconcile failed; will retry',
      );
    }
  }
}
