import type { SecretValue } from '../secrets/secret-value.ts';

/** Answers a login's second-factor prompt for accounts that already have MFA. */
export interface SecondFactor {
  /** A fresh TOTP code: waits out window edges and never repeats a code within one window. */
  totpCode(): Promise<SecretValue<string>>;
  /** Used only when the app offers no TOTP prompt, or as the caller's explicit choice. */
  readonly recoveryCode?: SecretValue<string>;
}
