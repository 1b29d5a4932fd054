import type { ConnectorContext, EnrollmentSecret } from '../sdk/connector.ts';
import { connectorOutdated, enrollmentRejected, mfaAlreadyEnabled, stepUpRequired } from '../sdk/errors.ts';
import { readQrIfReadable } from '../sdk/qr.ts';
import { SecretValue } from '../sdk/core.ts';
import { APP } from './names.ts';
import { describe, expectPage, expectVisible, open, urlsOf } from './pages.ts';
import { passReauthentication, submitCode } from './sign-in.ts';

/** What mfa/totp/activate_form.html shows: the key in a disabled field, and the QR as an SVG data-URI image. */
export const SETUP_KEY = '#authenticator_secret';
export const SETUP_QR = 'form img[src^="data:image/"]';

/**
 * "Activate Authenticator App": allauth keeps the secret in the session until a code confirms it,
 * and a refused code re-renders the same secret, so the seed stored before confirmation is the
 * one confirmed. allauth's own defaults are SHA1, 6 digits, 30 s; the QR's otpauth URI carries a
 * site's MFA_TOTP_DIGITS / MFA_TOTP_PERIOD when they differ.
 */
export async function beginTotpEnrollment(ctx: ConnectorContext): Promise<EnrollmentSecret> {
  const opened = await open(ctx, urlsOf(ctx).totpActivate, 'opening "Activate Authenticator App"');
  const landing = await passReauthentication(ctx, opened);
  // allauth sends an account that has the authenticator app to the deactivation page instead.
  if (landing.page === 'totpDeactivate') throw mfaAlreadyEnabled(APP);
  expectPage(landing, 'totpActivate', 'the "Activate Authenticator App" page');
  const key = await expectVisible(ctx, ctx.page.locator(SETUP_KEY), 'the authenticator secret field');
  const textKey = new SecretValue((await key.inputValue({ timeout: ctx.timeouts.actionMs })).trim());
  const otpauthUri = await readQrIfReadable(ctx.page.locator(SETUP_QR).first(), ctx.timeouts.actionMs, ctx.logger);
  return {
    textKey,
    ...(otpauthUri ? { otpauthUri } : {}),
    defaults: { algorithm: 'SHA1', digits: 6, period: 30 },
  };
}

/**
 * Success redirects to the recovery codes allauth just generated (or to the MFA page when the
 * site has none); a refused code re-renders the form.
 */
export async function confirmTotpEnrollment(ctx: ConnectorContext, code: SecretValue<string>): Promise<void> {
  const landing = await submitCode(ctx, code, 'confirmation code');
  if (landing.page === 'recoveryCodes' || landing.page === 'mfaIndex') return;
  if (landing.page === 'totpActivate') throw enrollmentRejected(APP, 'the authenticator code was refused');
  if (landing.page === 'reauthenticate' || landing.page === 'mfaReauthenticate') {
    // The re-authentication expired before the code was sent; after it, allauth would show a new secret.
    throw stepUpRequired(
      APP,
      'a re-authentication that expired during the enrollment; nothing was confirmed, MFA stays off',
    );
  }
  throw connectorOutdated(
    APP,
    `the recovery codes or the Two-Factor Authentication page after "Activate" (found ${describe(landing)})`,
  );
}
