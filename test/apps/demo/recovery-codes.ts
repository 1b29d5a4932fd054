import { createHash, randomBytes } from 'node:crypto';
import { SecretValue } from '../../../core/secrets/secret-value.ts';

export const RECOVERY_CODE_COUNT = 10;

/** Ten codes like `3f9a1-0c2d7`, lower-case hex, as many apps (GitHub) hand them out. */
export function newRecoveryCodes(): SecretValue<string[]> {
  return new SecretValue(
    Array.from({ length: RECOVERY_CODE_COUNT }, () => {
      const hex = randomBytes(5).toString('hex');
      return `${hex.slice(0, 5)}-${hex.slice(5)}`;
    }),
  );
}

function fingerprint(code: string): string {
  const normalised = code.toLowerCase().replace(/[^0-9a-f]/g, '');
  return createHash('sha256').update(normalised).digest('hex');
}

/** Keeps only hashes, like a real app; each code can be consumed once. */
export class RecoveryCodeSet {
  readonly #unused: Set<string>;

  constructor(codes: SecretValue<string[]>) {
    this.#unused = new Set(codes.reveal().map(fingerprint));
  }

  get remaining(): number {
    return this.#unused.size;
  }

  consume(code: string): boolean {
    return this.#unused.delete(fingerprint(code));
  }
}
