/**
 * What a connector takes from core/ (docs/architecture.md, "Layers"): connectors import these from the SDK, so the
 * SDK is the one surface they build on.
 */
export { SecretValue, secret } from '../../core/secrets/secret-value.ts';
export type { Logger } from '../../core/logging/logger.ts';
export type { RecoveryCodeAsked, SecondFactor } from '../../core/totp/second-factor.ts';
export { TotpCodeSource, processUsedTotpWindows } from '../../core/totp/totp-codes.ts';
export {
  TOTP_ALGORITHMS,
  TOTP_DIGITS,
  type TotpAlgorithm,
  type TotpDigits,
  type TotpSeed,
} from '../../core/totp/totp-seed.ts';
