import type { SecretValue } from '../../core/secrets/secret-value.ts';
import * as seedText from '../../core/totp/seed-text.ts';
import type { TotpAlgorithm, TotpDigits, TotpSeed } from '../../core/totp/totp-seed.ts';
import { unsupportedSeed } from './errors.ts';

/**
 * The readers of what enrollment pages show (core/totp/seed-text.ts, which the controller shares for adopted seeds),
 * with a seed that cannot produce correct codes reported as the connector error UnsupportedSeed.
 */
function asConnectorError<T>(read: () => T): T {
  try {
    return read();
  } catch (e: unknown) {
    if (e instanceof seedText.SeedFormatError) throw unsupportedSeed(e.problem);
    throw e;
  }
}

export function parseOtpauthUri(uri: SecretValue<string> | string): TotpSeed {
  return asConnectorError(() => seedText.parseOtpauthUri(uri));
}

/** A setup key as shown in text ("jbsw y3dp ehpk 3pxp"), or an otpauth URI pasted as text. */
export function parseTextKey(key: SecretValue<string> | string, defaults: seedText.TextKeyDefaults = {}): TotpSeed {
  return asConnectorError(() => seedText.parseTextKey(key, defaults));
}

/** Parameters a setup page prints beside a bare key ("SHA-256", "8", "60"); absent values take the TOTP defaults. */
export function totpParametersFromText(shown: { algorithm?: string; digits?: string; period?: string }): {
  algorithm: TotpAlgorithm;
  digits: TotpDigits;
  period: number;
} {
  return asConnectorError(() => seedText.totpParametersFromText(shown));
}

/** The parameters a setup page states in prose or labelled lines ("Algorithm: SHA-256", "8 digits"). */
export function totpParametersInText(
  text: string,
): Partial<{ algorithm: TotpAlgorithm; digits: TotpDigits; period: number }> {
  return asConnectorError(() => seedText.totpParametersInText(text));
}
