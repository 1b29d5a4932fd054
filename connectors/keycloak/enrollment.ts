import type { ConnectorContext, EnrollmentDefaults, EnrollmentSecret } from '../sdk/connector.ts';
import { readEnrollmentSecret } from '../sdk/enrollment-secret.ts';
import {
  connectorOutdated,
  enrollmentRejected,
  mfaAlreadyEnabled,
  otherMfaMethodEnabled,
  unsupportedSeed,
} from '../sdk/errors.ts';
import { TOTP_ALGORITHMS, TOTP_DIGITS, type SecretValue, type TotpAlgorithm, type TotpDigits } from '../sdk/core.ts';
import { QrNotFoundError, readQrFromElement } from '../sdk/qr.ts';
import { fillSecret } from '../sdk/secret-input.ts';
import { mfaStateOf, offersSetup, openSigningIn, OTP } from './account-credentials.ts';
import { APP, DEVICE_NAME } from './names.ts';
import {
  clickAndNavigate,
  describePage,
  expectLoginPage,
  expectVisible,
  feedbackText,
  LOGIN_PAGES,
  settledPage,
  type KeycloakPage,
} from './pages.ts';
import { passSignInPages } from './sign-in.ts';
import { expectThemed, themed, type ThemeElement } from './theme.ts';

/**
 * The authenticator setup is Keycloak's CONFIGURE_TOTP required action, started from the account
 * console ("Set up Authenticator application"). Its page shows a QR code; "Unable to scan?"
 * reloads it with the key as text and the realm's OTP policy. The secret is kept in the
 * authentication session, so both views (and a refused code's re-render) show the same one.
 */

export async function beginTotpEnrollment(ctx: ConnectorContext): Promise<EnrollmentSecret> {
  const setup = await openTotpSetup(ctx);
  expectLoginPage(setup, LOGIN_PAGES.configureTotp, 'the "Mobile Authenticator Setup" page');
  const { timeouts } = ctx;
  const otpauthUri = await readQrCode(ctx);
  const manual = await clickAndNavigate(ctx, themed(ctx, 'totpShowKey'), 'showing the setup key ("Unable to scan?")');
  expectLoginPage(manual, LOGIN_PAGES.configureTotp, 'the setup page with the key as text');
  const { textKey } = await readEnrollmentSecret(
    APP,
    { textKey: themed(ctx, 'totpKey'), timeoutMs: timeouts.actionMs },
    ctx.logger,
  );
  return { ...(textKey ? { textKey } : {}), ...(otpauthUri ? { otpauthUri } : {}), defaults: await readOtpPolicy(ctx) };
}

/** The QR code's otpauth URI; the text key on the next view is enough when it cannot be read. */
async function readQrCode(ctx: ConnectorContext): Promise<SecretValue<string> | undefined> {
  try {
    return await readQrFromElement(themed(ctx, 'totpQr'), ctx.timeouts.actionMs);
  } catch (e: unknown) {
    if (!(e instanceof QrNotFoundError)) throw e;
    ctx.logger.warn('the QR code on the setup page is unreadable; relying on the text key');
    return undefined;
  }
}

/** From the account console, or in place when the realm made the user set one up at sign-in. */
async function openTotpSetup(ctx: ConnectorContext): Promise<KeycloakPage> {
  const current = await ctx.page
    .locator('body')
    .getAttribute('data-page-id')
    .catch(() => null);
  if (current === LOGIN_PAGES.configureTotp) return settledPage(ctx, 'reading the setup page');
  const { types } = await openSigningIn(ctx);
  const state = mfaStateOf(types);
  if (state.totpEnabled) throw mfaAlreadyEnabled(APP);
  if (state.otherMethods.length > 0) throw otherMfaMethodEnabled(APP, state.otherMethods);
  if (!offersSetup(types, OTP))
    throw connectorOutdated(APP, 'an authenticator application the account console lets users set up');
  const setUp = await expectVisible(
    ctx,
    ctx.page.getByTestId('otp/create'),
    'the "Set up Authenticator application" button',
  );
  const next = await clickAndNavigate(ctx, setUp, 'starting the authenticator setup');
  return passSignInPages(ctx, next, { purpose: 'stepUp', ...ctx.stepUp });
}

/** The policy lines under the text key: "Algorithm: SHA1", "Digits: 6", "Interval: 30". */
async function readOtpPolicy(ctx: ConnectorContext): Promise<Partial<EnrollmentDefaults>> {
  const value = async (element: ThemeElement): Promise<string> => {
    const line = await expectThemed(ctx, element, `the ${element} policy line`);
    return (await line.innerText()).split(':').slice(1).join(':').trim();
  };
  return otpPolicyFrom({
    type: await value('totpType'),
    algorithm: await value('totpAlgorithm'),
    digits: await value('totpDigits'),
    period: await value('totpPeriod'),
  });
}

export function otpPolicyFrom(shown: {
  type: string;
  algorithm: string;
  digits: string;
  period: string;
}): Partial<EnrollmentDefaults> {
  if (!/time/i.test(shown.type)) throw unsupportedSeed(`the realm's OTP policy is "${shown.type}", not time-based`);
  const algorithm = shown.algorithm
    .toUpperCase()
    .replace(/^HMAC/, '')
    .replace(/[-_\s]/g, '');
  const digits = Number(shown.digits);
  const period = Number(shown.period);
  if (!(TOTP_ALGORITHMS as readonly string[]).includes(algorithm))
    throw unsupportedSeed(`algorithm ${algorithm.slice(0, 16)} is not supported`);
  if (!(TOTP_DIGITS as readonly number[]).includes(digits))
    throw unsupportedSeed(`${digits}-digit codes are not supported`);
  if (!Number.isInteger(period) || period <= 0)
    throw connectorOutdated(APP, 'a whole number of seconds on the "Interval" line');
  return { algorithm: algorithm as TotpAlgorithm, digits: digits as TotpDigits, period };
}

export async function confirmTotpEnrollment(ctx: ConnectorContext, code: SecretValue<string>): Promise<void> {
  const { timeouts } = ctx;
  const field = await expectThemed(ctx, 'totpCode', 'the One-time code field');
  await fillSecret(ctx, field, code, 'confirmation code');
  await themed(ctx, 'totpDeviceName').fill(DEVICE_NAME, { timeout: timeouts.actionMs });
  const next = await clickAndNavigate(ctx, themed(ctx, 'totpSave'), 'confirming the authenticator setup');
  if (next.kind === 'account') return;
  if (next.id === LOGIN_PAGES.configureTotp) {
    const feedback = await feedbackText(ctx);
    throw enrollmentRejected(
      APP,
      /invalid/i.test(feedback) ? 'the one-time code was refused' : 'the setup page came back',
    );
  }
  // Another required action may follow at a sign-in-time setup; the authenticator is saved by now.
  ctx.logger.info({ page: describePage(next) }, 'authenticator saved; Keycloak shows a further step');
}
