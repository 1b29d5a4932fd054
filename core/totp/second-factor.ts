import type { SecretValue } from '../secrets/secret-value.ts';

/**
 * Which recovery code an app asks for. Keycloak names one ("Recovery code #3": `index` 2, counted from 0 in the
 * order the app showed the codes); apps that take any unused code (allauth, Gitea, django-two-factor) name none.
 */
export interface RecoveryCodeAsked {
  readonly index?: number;
}

/** Answers a login's second-factor prompt for accounts that already have MFA. */
export interface SecondFactor {
  /** A fresh TOTP code: waits out window edges and never repeats a code within one window. */
  totpCode(): Promise<SecretValue<string>>;
  /**
   * Present when the caller signs in with a recovery code instead of a TOTP code (its explicit choice; it is also the
   * only answer when the app offers no TOTP prompt). Each call uses one code up, so a connector calls it once per
   * prompt, passing the position the app names, if it names one. It fails rather than answer another position.
   */
  recoveryCode?(asked: RecoveryCodeAsked): Promise<SecretValue<string>>;
}
