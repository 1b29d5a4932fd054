import type { Logger } from '../../core/logging/logger.ts';

export interface TlsReload<T> {
  /** What is served now. */
  readonly initial: T;
  read(): Promise<T>;
  same(served: T, next: T): boolean;
  /** Serves `next` (server.setSecureContext); throws when it does not make a secure context. */
  apply(next: T): void;
  /** For the log lines, e.g. "code service certificate". */
  readonly what: string;
}

/**
 * Re-reads TLS material every `everyMs` and serves it when it changed. A read that fails, or material that makes no
 * secure context (a renewal read between its certificate and key file), keeps what is served, is logged without the
 * material, and is tried again at the next tick: a reload never takes the process down.
 */
export function reloadEvery<T>(everyMs: number, reload: TlsReload<T>, log: Logger): NodeJS.Timeout {
  let served = reload.initial;
  const keep = (problem: string) => (e: unknown) =>
    log.warn(
      { error: e instanceof Error ? e.message : String(e) },
      `${reload.what} ${problem}; keeping the current one`,
    );
  const timer = setInterval(() => {
    reload.read().then((next) => {
      if (reload.same(served, next)) return;
      try {
        reload.apply(next);
      } catch (e: unknown) {
        keep('was read but does not make a secure context (certificate and key from different renewals?)')(e);
        return;
      }
      served = next;
      log.info(`${reload.what} reloaded`);
    }, keep('could not be re-read'));
  }, everyMs);
  timer.unref();
  return timer;
}
