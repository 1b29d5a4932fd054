import { KeyedBackoff } from './keyed-backoff.ts';

export interface WorkQueueHooks {
  onAdd?(): void;
  onRetry?(): void;
  onDepth?(depth: number): void;
}

export interface WorkQueueOptions {
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  hooks?: WorkQueueHooks;
}

/**
 * A keyed work queue with client-go semantics: a key is queued at most once; a key being processed is never
 * handed to a second worker; a key added while processing is queued again when its worker is done.
 * Delayed adds (requeue-after, per-key exponential backoff) keep only the earliest pending timer per key.
 */
export class WorkQueue {
  readonly #queue: string[] = [];
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  readonly #waiters: Array<(key: string | undefined) => void> = [];
  readonly #backoff: KeyedBackoff;
  readonly #hooks: WorkQueueHooks;
  #shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#backoff = new KeyedBackoff(options.baseBackoffMs ?? 1_000, options.maxBackoffMs ?? 300_000);
    this.#hooks = options.hooks ?? {};
  }

  get length(): number {
    return this.#queue.length;
  }

  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#hooks.onAdd?.();
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      waiter(key);
      return;
    }
    this.#queue.push(key);
    this.#hooks.onDepth?.(this.#queue.length);
  }

  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const pending = this.#timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.#timers.set(key, { at, timer });
  }

  /** Requeue after this key's next backoff step; returns the delay. */
  addRateLimited(key: string): number {
    const delay = this.#backoff.next(key);
    this.#hooks.onRetry?.();
    this.addAfter(key, delay);
    return delay;
  }

  /** Reset the key's backoff after a successful sync. */
  forget(key: string): void {
    this.#backoff.forget(key);
  }

  retries(key: string): number {
    return this.#backoff.failures(key);
  }

  /** Resolves with the next key, or undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      this.#hooks.onDepth?.(this.#queue.length);
      return Promise.resolve(key);
    }
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (!this.#dirty.has(key)) return;
    this.#dirty.delete(key);
    this.add(key);
  }

  shutDown(): void {
    this.#shuttingDown = true;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }
}
