import type { ConnectorContext, EnrollmentSecret } from '../sdk/connector.ts';
import { connectorOutdated, enrollmentRejected, mfaAlreadyEnabled } from '../sdk/errors.ts';
import { readQrIfReadable } from '../sdk/qr.ts';
import { fillSecret } from '../sdk/secret-input.ts';
import { SecretValue } from '../sdk/core.ts';
import { APP } from './names.ts';
import {
  describe,
  expectPage,
  expectVisible,
  formField,
  open,
  submitField,
  submitForm,
  urlsOf,
  wizardForm,
  type Landing,
} from './pages.ts';
import { PAGE_PATHS } from './site-urls.ts';

/** What the wizard's generator step shows: the key as the text of a link to its otpauth URI, and the QR as an image of qrcode/. */
export const SETUP_KEY = 'a[href^="otpauth:"]';
export const SETUP_QR = `img[src$="${PAGE_PATHS.qr}"]`;
/** The generator step's code field (TOTPDeviceForm's `token`, prefixed with the step). */
const CODE_FIELD = 'generator-token';
/** The authenticator app's method code (the package's GeneratorMethod), which is also the name of its wizard step. */
const GENERATOR_METHOD = 'generator';
/** welcome, method, generator: at most two steps before the key. */
const MAX_STEPS_BEFORE_KEY = 2;

/**
 * "Enable Two-Factor Authentication" is a wizard: a welcome step, the method choice when the site
 * offers more than one (email, phone, YubiKey, WebAuthn plugins), then the generator step with the
 * QR and the key. The key lives in the wizard's session storage until a code confirms it, and a
 * refused code re-renders the same step with the same key, so the seed stored before confirmation
 * is the one confirmed. The package's codes are SHA1, 30 s and TWO_FACTOR_TOTP_DIGITS digits (6 by
 * default), which the QR's otpauth URI carries.
 */
export async function beginTotpEnrollment(ctx: ConnectorContext): Promise<EnrollmentSecret> {
  let landing = await open(ctx, urlsOf(ctx).setup, 'opening "Enable Two-Factor Authentication"');
  // The package sends an account that has a device on to "setup complete".
  if (landing.page === 'setupComplete') throw mfaAlreadyEnabled(APP);
  for (let steps = 0; landing.step !== GENERATOR_METHOD; steps++) {
    expectPage(landing, 'setup', 'the "Enable Two-Factor Authentication" wizard');
    if (steps === MAX_STEPS_BEFORE_KEY)
      throw connectorOutdated(APP, `the wizard's generator step (found ${describe(landing)})`);
    landing = await nextStep(ctx, landing);
  }
  expectPage(landing, 'setup', "the wizard's generator step");
  const key = await expectVisible(
    ctx,
    ctx.page.locator(SETUP_KEY).first(),
    'the TOTP secret (a link to its otpauth URI)',
  );
  const textKey = new SecretValue((await key.innerText({ timeout: ctx.timeouts.actionMs })).trim());
  // The QR image, else the link's own URI: both come from the server, and the runner cross-checks either with the text.
  const qr = await readQrIfReadable(ctx.page.locator(SETUP_QR).first(), ctx.timeouts.actionMs, ctx.logger);
  const href = await key.getAttribute('href', { timeout: ctx.timeouts.actionMs });
  const otpauthUri = qr ?? (href ? new SecretValue(href) : undefined);
  return {
    textKey,
    ...(otpauthUri ? { otpauthUri } : {}),
    defaults: { algorithm: 'SHA1', digits: 6, period: 30 },
  };
}

/** Past the welcome step, and past the method choice by choosing the authenticator app. */
async function nextStep(ctx: ConnectorContext, landing: Landing): Promise<Landing> {
  if (landing.step === 'method') {
    const generator = ctx.page.locator(`input[type="radio"][name$="-method"][value="${GENERATOR_METHOD}"]`).first();
    await expectVisible(ctx, generator, `the "${GENERATOR_METHOD}" (token generator) choice of the method step`);
    await generator.check({ timeout: ctx.timeouts.actionMs });
  } else if (landing.step !== 'welcome') {
    throw connectorOutdated(APP, `the wizard's welcome, method or generator step (found ${describe(landing)})`);
  }
  return submitForm(ctx, wizardForm(ctx), `the wizard's ${landing.step} step`);
}

/**
 * Success redirects to "setup complete"; a refused code re-renders the generator step with its error
 * and the same key.
 */
export async function confirmTotpEnrollment(ctx: ConnectorContext, code: SecretValue<string>): Promise<void> {
  const field = await expectVisible(ctx, formField(ctx, CODE_FIELD), `the code field (${CODE_FIELD})`);
  await fillSecret(ctx, field, code, 'confirmation code');
  const landing = await submitField(ctx, field, 'submitting the confirmation code');
  if (landing.page === 'setupComplete') return;
  if (landing.page === 'setup' && landing.step === GENERATOR_METHOD)
    throw enrollmentRejected(APP, 'the authenticator code was refused');
  throw connectorOutdated(APP, `"setup complete" after the confirmation code (found ${describe(landing)})`);
}
