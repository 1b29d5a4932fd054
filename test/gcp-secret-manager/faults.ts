import { status } from '@grpc/grpc-js';
import { RpcError } from './rpc-error.ts';

/**
 * `before`: the call fails and changes nothing. `after`: the server applies the change and then
 * fails, like a response lost on the way back (the case that makes non-idempotent writes hard).
 */
export type FaultPhase = 'before' | 'after';

export interface FaultOptions {
  /** How many calls fail once the rule starts failing; Infinity for a permanent fault. */
  readonly times?: number;
  /** Calls that pass before the rule starts failing. */
  readonly passFirst?: number;
  readonly phase?: FaultPhase;
  readonly message?: string;
}

interface FaultRule {
  readonly method: string;
  readonly code: status;
  readonly phase: FaultPhase;
  readonly message: string;
  passFirst: number;
  remaining: number;
}

/** Faults a test arms on the server, by RPC method name (`AccessSecretVersion`) or `*` for every method. */
export class FaultInjector {
  readonly #rules: FaultRule[] = [];
  readonly #calls = new Map<string, number>();

  /** The next `count` calls of `method` fail with `code`. */
  failNext(method: string, count: number, code: status, options: Omit<FaultOptions, 'times'> = {}): void {
    this.#add(method, code, { ...options, times: count });
  }

  /** The first `passing` calls of `method` succeed; after that calls fail (`times` of them, default all). */
  failAfter(method: string, passing: number, code: status, options: Omit<FaultOptions, 'passFirst'> = {}): void {
    this.#add(method, code, { ...options, passFirst: passing });
  }

  clear(): void {
    this.#rules.length = 0;
  }

  /** How many calls of `method` reached the server, failed ones included. */
  calls(method: string): number {
    return this.#calls.get(method) ?? 0;
  }

  resetCalls(): void {
    this.#calls.clear();
  }

  /** Called by the server for every call, before and after applying it. */
  check(method: string, phase: FaultPhase): RpcError | undefined {
    if (phase === 'before') this.#calls.set(method, this.calls(method) + 1);
    for (const rule of this.#rules) {
      if ((rule.method !== method && rule.method !== '*') || rule.phase !== phase) continue;
      if (rule.passFirst > 0) {
        rule.passFirst--;
        continue;
      }
      if (rule.remaining <= 0) continue;
      rule.remaining--;
      return new RpcError(rule.code, rule.message);
    }
    return undefined;
  }

  #add(method: string, code: status, options: FaultOptions): void {
    this.#rules.push({
      method,
      code,
      phase: options.phase ?? 'before',
      message: options.message ?? `Injected ${status[code]} fault on ${method}.`,
      passFirst: options.passFirst ?? 0,
      remaining: options.times ?? Infinity,
    });
  }
}
