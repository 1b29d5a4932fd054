import {
  makeInformer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ListPromise,
} from '@kubernetes/client-node';
import type { Logger } from '../../../core/logging/logger.ts';
import { KeyedBackoff, sleep } from './keyed-backoff.ts';

export interface InformerHandlers<T> {
  onChange(obj: T): void;
  onDelete?(obj: T): void;
}

/**
 * A client-node informer that keeps running: client-node stops an informer on a watch or list error
 * (it relists by itself only on 410 Gone), so this restarts it with capped exponential backoff.
 */
export class ResilientInformer<T extends KubernetesObject> {
  readonly #informer: ReturnType<typeof makeInformer<T>>;
  readonly #backoff = new KeyedBackoff(500, 30_000);
  readonly #log: Logger;
  readonly #stopped = new AbortController();
  readonly #synced: Promise<void>;
  #markSynced: () => void = () => undefined;
  restarts = 0;

  /**
   * `slim` trims each object as it enters the cache (before any handler sees it), for caches that need only part
   * of what they watch: the cache then holds the trimmed object.
   */
  constructor(
    kc: KubeConfig,
    path: string,
    list: ListPromise<T>,
    log: Logger,
    labelSelector?: string,
    slim?: (object: T) => void,
  ) {
    this.#log = log.child({ informer: path });
    this.#synced = new Promise((resolve) => (this.#markSynced = resolve));
    const listAndMark = async (): Promise<KubernetesListObject<T>> => {
      const result = await list();
      // The ListWatch fills its cache synchronously right after this promise settles.
      setImmediate(() => this.#markSynced());
      return result;
    };
    this.#informer = makeInformer<T>(kc, path, listAndMark, labelSelector);
    if (slim) {
      // ListWatch stores the object it passes to its handlers; this one is registered first, so runs first.
      this.#informer.on('add', slim);
      this.#informer.on('update', slim);
    }
    this.#informer.on('connect', () => this.#backoff.forget('watch'));
    this.#informer.on('error', (err: unknown) => void this.#restart(err));
  }

  on(handlers: InformerHandlers<T>): void {
    this.#informer.on('add', handlers.onChange);
    this.#informer.on('update', handlers.onChange);
    this.#informer.on('delete', handlers.onDelete ?? handlers.onChange);
  }

  async start(): Promise<void> {
    await this.#informer.start();
  }

  /** Resolves once the first list has filled the cache. */
  synced(): Promise<void> {
    return this.#synced;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#informer.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.#informer.list(namespace);
  }

  async stop(): Promise<void> {
    this.#stopped.abort();
    await this.#informer.stop();
  }

  async #restart(err: unknown): Promise<void> {
    if (this.#stopped.signal.aborted) return;
    const delay = this.#backoff.next('watch');
    this.restarts += 1;
    this.#log.warn({ err: describeError(err), retryInMs: delay }, 'watch failed; restarting informer');
    await sleep(delay, this.#stopped.signal);
    if (this.#stopped.signal.aborted) return;
    try {
      await this.#informer.start();
    } catch (startErr: unknown) {
      await this.#restart(startErr);
    }
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
