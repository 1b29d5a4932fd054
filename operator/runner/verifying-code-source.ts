import type { SecretValue } from '../secrets/secret-value.ts';
import type { SecondFactor } from '../../connectors/sdk/connector.ts';
import { TotpCodeSource } from '../../connectors/sdk/totp-submission.ts';
import type { TotpSeed } from '../../connectors/sdk/totp-seed.ts';
import type { SecretScrubber } from './secret-scrubber.ts';

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
