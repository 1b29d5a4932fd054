import type { ConnectorContext, EnrollmentSecret } from '../sdk/connector.ts';
import { connectorOutdated, enrollmentRejected, mfaAlreadyEnabled } from '../sdk/errors.ts';
import { readQrIfReadable } from '../sdk/qr.ts';
import { SecretValue } from '../sdk/core.ts';
import { APP } from './names.ts';
import { describe, expectPage, expectVisible, open, urlsOf } from './pages.ts';
import { submitCode } from './sign-in.ts';

/**
 * twofa_enroll.tmpl: the QR as a PNG data-URI image whose alt text is the secret, the same secret in
 * the text below it ("Or enter the secret: ..."), and the `passcode` form.
 */
export const SETUP_QR = '.user-setting-content img[src^="data:image/"]';
export const SETUP_TEXT = '.user-setting-content .segment > p';

/** Gitea's secrets are base32 (RFC 4648, no padding): 64 characters for its 40 random bytes. */
const BASE32_KEY = /\b[A-Z2-7]{16,}\b/;

/**
 * "Enroll in Two-Factor Authentication": Gitea keeps the secret in the session until a code
 * confirms it, and a refused code shows the same secret again, so the seed stored before
 * confirmation is the one confirmed. Its codes are SHA1, 6 digits, 30 s (pquerna/otp's defaults).
 */
export async function beginTotpEnrollment(ctx: ConnectorContext): Promise<EnrollmentSecret> {
  const landing = await open(ctx, urlsOf(ctx).enroll, 'opening "Enroll in Two-Factor Authentication"');
  // Gitea sends an enrolled account back to Settings → Security ("already enrolled").
  if (landing.page === 'security') throw mfaAlreadyEnabled(APP);
  expectPage(landing, 'enroll', 'the "Enroll in Two-Factor Authentication" page');
  const qr = await expectVisible(ctx, ctx.page.locator(SETUP_QR).first(), 'the QR code image');
  const textKey = await readTextKey(ctx, (await qr.getAttribute('alt', { timeout: ctx.timeouts.actionMs })) ?? '');
  const otpauthUri = await readQrIfReadable(ctx.page.locator(SETUP_QR).first(), ctx.timeouts.actionMs, ctx.logger);
  return {
    textKey,
    ...(otpauthUri ? { otpauthUri } : {}),
    defaults: { algorithm: 'SHA1', digits: 6, period: 30 },
  };
}

/** The image's alt text, else the key in the page's text (a template that drops the alt). */
async function readTextKey(ctx: ConnectorContext, alt: string): Promise<SecretValue<string>> {
  if (BASE32_KEY.test(alt.trim())) return new SecretValue(alt.trim());
  const texts = await ctx.page.locator(SETUP_TEXT).allInnerTexts();
  const key = texts.map((text) => BASE32_KEY.exec(text)?.[0]).find(Boolean);
  if (!key)
    throw connectorOutdated(
      APP,
      'the secret on the enrollment page (the QR image\'s alt text or "Or enter the secret")',
    );
  return new SecretValue(key);
}

/**
 * Success redirects to Settings → Security, with the single-use recovery key in the success
 * message; a refused code redirects to the enrollment page again, with the same secret.
 */
export async function confirmTotpEnrollment(ctx: ConnectorContext, code: SecretValue<string>): Promise<void> {
  const landing = await submitCode(ctx, 'passcode', code, 'confirmation code');
  if (landing.page === 'security') return;
  if (landing.page === 'enroll') throw enrollmentRejected(APP, 'the authenticator code was refused');
  throw connectorOutdated(APP, `Settings → Security after "Verify" (found ${describe(landing)})`);
}
