/** Per-key exponential backoff: base * 2^failures, capped. Forgetting a key resets it. */
export class KeyedBackoff {
  readonly #failures = new Map<string, number>();
  readonly #baseMs: number;
  readonly #capMs: number;

  constructor(baseMs: number, capMs: number) {
    this.#baseMs = baseMs;
    this.#capMs = capMs;
  }

  next(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    return Math.min(this.#capMs, this.#baseMs * 2 ** failures);
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }
}

/** Sleep that an AbortSignal cuts short (resolves, never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
