import type { SecretValue } from '../../core/secrets/secret-value.ts';
import type { RecoveryCodeAsked, SecondFactor } from '../../connectors/sdk/connector.ts';
import { challengeRequired } from '../../connectors/sdk/errors.ts';
import { TotpCodeSource } from '../../core/totp/totp-codes.ts';
import type { TotpSeed, TotpSeedMetadata } from '../../core/totp/totp-seed.ts';
import type { RunCodeClient } from './run-code-client.ts';
import type { SecretScrubber } from './secret-scrubber.ts';
import type { SeedSlot } from '../stores/seed-slots.ts';

/**
 * A code source that remembers whether the app asked for a code. A login that never asked
 * proves nothing about a stored seed, so adopting or verifying needs `asked` to be true.
 */
export class VerifyingCodeSource implements SecondFactor {
  readonly #codes: TotpCodeSource;
  readonly #scrubber: SecretScrubber;
  #asked = false;

  constructor(seed: TotpSeed, scrubber: SecretScrubber) {
    this.#codes = new TotpCodeSource(seed);
    this.#scrubber = scrubber;
  }

  get asked(): boolean {
    return this.#asked;
  }

  async totpCode(): Promise<SecretValue<string>> {
    this.#asked = true;
    const code = await this.#codes.totpCode();
    this.#scrubber.add(code);
    return code;
  }
}

/**
 * The same for a seed the run never holds: each code comes from the code service, from one store slot. `metadata` is
 * the slot's seed parameters once a code was asked for (for the outcome summary).
 */
export class RemoteSlotCodeSource implements SecondFactor {
  readonly slot: SeedSlot;
  readonly #client: RunCodeClient;
  #metadata: TotpSeedMetadata | undefined;
  #asked = false;

  constructor(client: RunCodeClient, slot: SeedSlot) {
    this.#client = client;
    this.slot = slot;
  }

  get asked(): boolean {
    return this.#asked;
  }

  get metadata(): TotpSeedMetadata | undefined {
    return this.#metadata;
  }

  async totpCode(): Promise<SecretValue<string>> {
    this.#asked = true;
    const { code, metadata } = await this.#client.code(this.slot);
    this.#metadata = metadata;
    return code;
  }
}

/**
 * The way in of a disable or rotate run whose stored seeds the app refused: one recovery code at a time from the code
 * service, claimed there at the position the app names. It has no TOTP code to give, so a prompt for one after the
 * sign-in fails clearly. `indexes` are the positions used (for the outcome), never the codes.
 */
export class RemoteRecoveryCodeFactor implements SecondFactor {
  readonly #client: RunCodeClient;
  readonly #app: string;
  readonly indexes: number[] = [];

  constructor(client: RunCodeClient, app: string) {
    this.#client = client;
    this.#app = app;
  }

  totpCode(): Promise<SecretValue<string>> {
    return Promise.reject(
      challengeRequired(
        this.#app,
        'an authenticator code after the sign-in with a recovery code (the stored seed is refused, so the operator has none)',
      ),
    );
  }

  async recoveryCode({ index }: RecoveryCodeAsked): Promise<SecretValue<string>> {
    const handed = await this.#client.recoveryCode(index);
    if (index !== undefined && handed.index !== index)
      throw new Error(`the code service answered recovery code index ${handed.index}, not ${index}`);
    this.indexes.push(handed.index);
    return handed.code;
  }
}
