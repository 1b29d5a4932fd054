import { expect } from 'vitest';
import { generateTotpCode } from '../../../core/totp/totp-codes.ts';
import type { TotpSeed } from '../../../core/totp/totp-seed.ts';

/** Assert that none of the secrets occurs in any of the texts; codes count only as whole numbers. */
export function expectNoSecrets(
  texts: readonly string[],
  secrets: { strings: readonly string[]; codes?: readonly string[] },
): void {
  const all = texts.join('\n');
  for (const secret of secrets.strings) {
    expect(all.includes(secret), 'a secret string leaked').toBe(false);
    expect(all.toLowerCase().includes(secret.toLowerCase()), 'a secret string leaked (any case)').toBe(false);
  }
  for (const code of secrets.codes ?? []) {
    expect(new RegExp(`(?<!\\d)${code}(?!\\d)`).test(all), 'a TOTP code leaked').toBe(false);
  }
}

/** Every code of the seed from `fromMs` to now, one window either side: what a leaked code would look like. */
export function codesSince(seed: TotpSeed, fromMs: number): string[] {
  const periodMs = seed.period * 1000;
  const codes: string[] = [];
  for (let t = fromMs - periodMs; t <= Date.now() + periodMs; t += periodMs)
    codes.push(generateTotpCode(seed, t).reveal());
  return codes;
}
