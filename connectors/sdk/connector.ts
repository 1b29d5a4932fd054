import type { Page } from 'playwright-core';
import type { Logger } from '../../core/logging/logger.ts';
import type { SecretValue } from '../../core/secrets/secret-value.ts';
import type { RecoveryCodeAsked, SecondFactor } from '../../core/totp/second-factor.ts';
import type { TotpAlgorithm, TotpDigits } from '../../core/totp/totp-seed.ts';

/**
 * The contract between the runner and one app's browser automation. A connector is a stateless
 * object: everything a run needs comes in through the context, so one instance serves every run.
 *
 * The runner owns the order (login, read state, begin, persist the seed, confirm, read codes);
 * a connector only drives pages and maps what it sees to results or a ConnectorError.
 */
export interface Connector {
  /** Stable id used in `spec.connector` and the registry, e.g. `demo`. */
  readonly id: string;
  readonly displayName: string;
  /** Version of the automation (not of the app); reported in outcomes to spot outdated connectors. */
  readonly version: string;
  /**
   * The only hosts the browser may reach (no scheme, no port). `*.example.com` matches subdomains.
   * A loginUrl elsewhere is refused with LoginHostNotAllowed before the browser starts; while it
   * runs, every connection elsewhere (redirect hops, subresources, WebSockets) is refused.
   */
  readonly allowedLoginHosts: readonly string[];
  /** Used when the resource gives no loginUrl (SaaS apps with one login page). */
  readonly defaultLoginUrl?: string;
  /**
   * CSS selectors of every element that can show a secret (setup key, QR code, recovery codes,
   * code and password inputs). Failure screenshots paint over them.
   */
  readonly secretElements?: readonly string[];

  /**
   * Log in and stop on a signed-in page. Uses `secondFactor` when the app asks for a TOTP or
   * recovery code; without one, such a prompt is MfaAlreadyEnabled (or ChallengeRequired for
   * prompts the operator cannot answer, e.g. an email code).
   */
  login(ctx: ConnectorContext, credentials: Credentials, secondFactor?: SecondFactor): Promise<void>;

  /** Read, on the signed-in session, which MFA methods the account has. */
  readMfaState(ctx: ConnectorContext): Promise<MfaState>;

  /** Open the authenticator-app enrollment and read the secret it shows. Nothing is confirmed yet. */
  beginTotpEnrollment(ctx: ConnectorContext): Promise<EnrollmentSecret>;

  /** Submit a code to finish enrollment; EnrollmentRejected when the app refuses it. */
  confirmTotpEnrollment(ctx: ConnectorContext, code: SecretValue<string>): Promise<void>;

  /** Read the recovery codes the app shows after enrollment; an empty list when it has none. */
  readRecoveryCodes(ctx: ConnectorContext): Promise<SecretValue<readonly string[]>>;

  /**
   * Optional last step, run after the runner stored the recovery codes: for apps that turn MFA
   * on only once the user says the codes are saved (GitHub-style "I have saved these codes").
   */
  acknowledgeRecoveryCodes?(ctx: ConnectorContext): Promise<void>;

  /**
   * Optional: on a signed-in session whose MFA is on, ask the app for a new set of recovery codes and return it. The
   * app invalidates its old set when it issues the new one, so the runner stores what this returns before anything
   * else. A connector without it cannot regenerate: the runner refuses such a run before signing in.
   */
  regenerateRecoveryCodes?(ctx: ConnectorContext): Promise<SecretValue<readonly string[]>>;

  /**
   * Turn the authenticator app off on a signed-in session; `code` answers a confirmation prompt. It is undefined when the
   * session signed in with a recovery code because the stored seed was refused: an app that asks for an authenticator
   * code to turn it off then fails with ChallengeRequired.
   */
  disableTotp(ctx: ConnectorContext, code: SecretValue<string> | undefined): Promise<void>;
}

export interface ConnectorContext {
  /** A page in a fresh browser context whose connections go through the host guard; type secrets with fillSecret. */
  readonly page: Page;
  /** Where login starts; already checked against `allowedLoginHosts`. */
  readonly loginUrl: URL;
  readonly logger: Logger;
  readonly timeouts: ConnectorTimeouts;
  /** For step-up prompts inside security settings ("confirm your password"). */
  readonly stepUp: StepUpMaterial;
}

export interface ConnectorTimeouts {
  /** One navigation (goto, a submit that loads a page). */
  readonly navigationMs: number;
  /** Waiting for one element to appear or become actionable. */
  readonly actionMs: number;
}

export const DEFAULT_TIMEOUTS: ConnectorTimeouts = { navigationMs: 30_000, actionMs: 10_000 };

export interface Credentials {
  /** Not a secret in itself, but kept out of logs all the same. */
  readonly username: string;
  readonly password: SecretValue<string>;
}

/** Part of the contract, declared in core/ because the code service answers sign-ins with one too. */
export type { RecoveryCodeAsked, SecondFactor };

export interface StepUpMaterial {
  readonly credentials: Credentials;
  readonly secondFactor?: SecondFactor;
}

export interface MfaState {
  readonly totpEnabled: boolean;
  /** Other methods the app reports (e.g. `sms`, `webauthn`, `email`); empty when none. */
  readonly otherMethods: readonly string[];
  /**
   * How many authenticator apps (TOTP credentials) the account has, for apps that allow more than one; absent when
   * the app allows one or the connector cannot tell. A verification reports more than one as another method added.
   */
  readonly totpAuthenticators?: number;
}

/**
 * The enrollment secret as the page shows it. At least one of `textKey` and `otpauthUri` is set;
 * when both are, the runner cross-checks them. `defaults` describe the app's parameters when the
 * page shows only a text key (an otpauth URI's own parameters always win).
 */
export interface EnrollmentSecret {
  readonly textKey?: SecretValue<string>;
  readonly otpauthUri?: SecretValue<string>;
  readonly defaults?: Partial<EnrollmentDefaults>;
}

export interface EnrollmentDefaults {
  algorithm: TotpAlgorithm;
  digits: TotpDigits;
  period: number;
  issuer: string;
  label: string;
}
