import type { ConnectorContext, Credentials, SecondFactor } from '../sdk/connector.ts';
import {
  challengeRequired,
  ConnectorError,
  invalidCredentials,
  mfaAlreadyEnabled,
  rateLimited,
} from '../sdk/errors.ts';
import { fillSecret } from '../sdk/secret-input.ts';
import type { SecretValue } from '../sdk/core.ts';
import { APP } from './names.ts';
import {
  clickSubmit,
  describe,
  expectVisible,
  formField,
  isThrottled,
  open,
  submitField,
  urlsOf,
  type Landing,
} from './pages.ts';

/**
 * The package's sign-in is one wizard at account/login/: the `auth` step (`auth-username`,
 * `auth-password`), then, for an account with a device, the `token` step (`token-otp_token`, an
 * authenticator code); its "Use Backup Token" button (`wizard_goto_step=backup`) leads to the `backup`
 * step (`backup-otp_token`). Every step answers on the same URL; a finished sign-in redirects to the
 * site's own page (LOGIN_REDIRECT_URL or `next`).
 */
export async function signIn(
  ctx: ConnectorContext,
  credentials: Credentials,
  secondFactor?: SecondFactor,
): Promise<void> {
  const first = await open(ctx, urlsOf(ctx).login, 'opening the sign-in page');
  if (first.page !== 'login' || first.step !== 'auth') {
    throw challengeRequired(APP, `a sign-in page other than the package's login wizard (found ${describe(first)})`);
  }
  let landing = await submitPassword(ctx, credentials);
  if (landing.page === 'login' && landing.step === 'token') landing = await answerCodePrompt(ctx, secondFactor);
  throwIfNotSignedIn(landing);
}

async function submitPassword(ctx: ConnectorContext, credentials: Credentials): Promise<Landing> {
  const username = await expectVisible(ctx, formField(ctx, 'auth-username'), 'the username field (auth-username)');
  await fillSecret(ctx, username, credentials.username, 'username');
  const password = await expectVisible(ctx, formField(ctx, 'auth-password'), 'the password field (auth-password)');
  await fillSecret(ctx, password, credentials.password, 'password');
  const landing = await submitField(ctx, password, 'signing in');
  // Django's AuthenticationForm refuses a wrong password and an inactive account alike: the auth step again.
  if (landing.page === 'login' && landing.step === 'auth') throw invalidCredentials(APP);
  return landing;
}

async function answerCodePrompt(ctx: ConnectorContext, secondFactor: SecondFactor | undefined): Promise<Landing> {
  if (!secondFactor) throw mfaAlreadyEnabled(APP);
  const { recoveryCode } = secondFactor;
  if (recoveryCode) return answerWithBackupToken(ctx, () => recoveryCode.call(secondFactor, {}));
  return submitCode(ctx, 'token-otp_token', await secondFactor.totpCode(), 'sign-in code', 'token');
}

/**
 * A backup token is the caller's explicit choice; the package takes any unused one at the wizard's backup step, once.
 * It is asked for only on that step, so a site without one uses none up.
 */
async function answerWithBackupToken(
  ctx: ConnectorContext,
  token: () => Promise<SecretValue<string>>,
): Promise<Landing> {
  const button = ctx.page.locator('button[name="wizard_goto_step"][value="backup"]').first();
  if ((await button.count()) === 0) throw secondFactorRefused('backup token (the account has none left)');
  const backup = await clickSubmit(ctx, button, 'opening the backup token step');
  if (backup.page !== 'login' || backup.step !== 'backup')
    throw challengeRequired(APP, `the backup token step (found ${describe(backup)})`);
  return submitCode(ctx, 'backup-otp_token', await token(), 'backup token', 'backup');
}

/** Type a code into the named field and submit it; the same step again is a refusal (or django-otp's throttle). */
async function submitCode(
  ctx: ConnectorContext,
  name: string,
  code: SecretValue<string>,
  what: string,
  step: string,
): Promise<Landing> {
  const field = await expectVisible(ctx, formField(ctx, name), `the ${what} field (${name})`);
  await fillSecret(ctx, field, code, what);
  const landing = await submitField(ctx, field, `submitting the ${what}`);
  if (landing.page === 'login' && landing.step === step) {
    if (await isThrottled(ctx)) throw rateLimited(APP);
    throw secondFactorRefused(what);
  }
  return landing;
}

/** Where a finished sign-in must not be; everything else is the site's own page. */
export function throwIfNotSignedIn(landing: Landing): void {
  if (landing.page === 'login') {
    // TWO_FACTOR_LOGIN_TIMEOUT (10 minutes) sends a slow sign-in back to the auth step.
    throw challengeRequired(APP, `another sign-in step (${describe(landing)})`);
  }
}

/** The stored second factor does not match the account: a person has to find out which is right. */
function secondFactorRefused(what: string): ConnectorError {
  return new ConnectorError(
    'InvalidCredentials',
    `${APP} refused the ${what} from the stored material; it does not match the account. ` +
      'Check which authenticator the account uses before re-running.',
  );
}
