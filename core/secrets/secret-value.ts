import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A value that must never be printed: seeds, TOTP codes, passwords, recovery codes.
 * String conversion, JSON and util.inspect (pino, console, template strings) all yield "[redacted]";
 * only an explicit `reveal()` at the point of use returns the value.
 */
export class SecretValue<T = string> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  reveal(): T {
    return this.#value;
  }

  map<U>(fn: (value: T) => U): SecretValue<U> {
    return new SecretValue(fn(this.#value));
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }
}

export function secret<T>(value: T): SecretValue<T> {
  return new SecretValue(value);
}
