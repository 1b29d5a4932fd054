import type { SecretValue } from '../secrets/secret-value.ts';

/** Hash algorithms that authenticator apps and secret stores (Vault among them) agree on. */
export const TOTP_ALGORITHMS = ['SHA1', 'SHA256', 'SHA512'] as const;
export type TotpAlgorithm = (typeof TOTP_ALGORITHMS)[number];

export const TOTP_DIGITS = [6, 8] as const;
export type TotpDigits = (typeof TOTP_DIGITS)[number];

/**
 * Everything needed to generate the account's TOTP codes. The secret is canonical base32
 * (upper case, no padding, no spaces) and never prints; the rest is safe to report.
 */
export interface TotpSeed {
  readonly secret: SecretValue<string>;
  readonly algorithm: TotpAlgorithm;
  readonly digits: TotpDigits;
  readonly period: number;
  readonly issuer?: string;
  readonly label?: string;
}

/** The non-secret description of a seed, for status, outcome summaries and logs. */
export interface TotpSeedMetadata {
  algorithm: TotpAlgorithm;
  digits: TotpDigits;
  period: number;
}

export function seedMetadata(seed: TotpSeed): TotpSeedMetadata {
  return { algorithm: seed.algorithm, digits: seed.digits, period: seed.period };
}
