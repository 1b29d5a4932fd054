import type { ConnectorContext, Credentials, SecondFactor } from '../sdk/connector.ts';
import {
  challengeRequired,
  ConnectorError,
  invalidCredentials,
  mfaAlreadyEnabled,
  otherMfaMethodEnabled,
} from '../sdk/errors.ts';
import { fillSecret } from '../sdk/secret-input.ts';
import type { SecretValue } from '../sdk/core.ts';
import { APP } from './names.ts';
import { expectVisible, formField, open, submitField, urlsOf, type Landing } from './pages.ts';
import { PAGE_PATHS, type PageName } from './site-urls.ts';

/** Pages after the password that only a person can get past, and what they ask for. */
const CHALLENGES: Partial<Record<PageName, string>> = {
  changePassword: 'a new password (the account must change its password first)',
  activate: 'an email address confirmation (the account is not activated)',
};

/**
 * Gitea's sign-in: the form at user/login (`user_name`, `password`), then, for an account with a
 * second factor, user/two_factor (`passcode`, an authenticator code) or, when it has a security
 * key, user/webauthn first, which links to the code page only when the authenticator app is on too.
 * The single-use recovery key goes in at user/two_factor/scratch (`token`). Any page that is none of
 * these, nor a known challenge, is the instance's own (the dashboard): signed in.
 */
export async function signIn(
  ctx: ConnectorContext,
  credentials: Credentials,
  secondFactor?: SecondFactor,
): Promise<void> {
  const first = await open(ctx, urlsOf(ctx).login, 'opening the sign-in page');
  if (first.page !== 'login')
    throw challengeRequired(
      APP,
      `a sign-in page other than Gitea's user/login form (found ${first.page ?? 'another page'})`,
    );
  let landing = await submitPassword(ctx, credentials);
  if (landing.page === 'webauthn') landing = await leaveSecurityKeyPrompt(ctx, secondFactor);
  if (landing.page === 'twoFactor') landing = await answerCodePrompt(ctx, secondFactor);
  throwIfNotSignedIn(landing);
}

async function submitPassword(ctx: ConnectorContext, credentials: Credentials): Promise<Landing> {
  const username = await expectVisible(ctx, formField(ctx, 'user_name'), 'the username or email field');
  await fillSecret(ctx, username, credentials.username, 'username');
  const password = await expectVisible(ctx, formField(ctx, 'password'), 'the password field');
  await fillSecret(ctx, password, credentials.password, 'password');
  const landing = await submitField(ctx, password, 'signing in');
  if (landing.page !== 'login') return landing;
  // A refused password re-renders the form; a prohibited or locally disabled account gets a page without one.
  if (await formField(ctx, 'password').isVisible()) throw invalidCredentials(APP);
  throw new ConnectorError(
    'InvalidCredentials',
    `${APP} does not let this account sign in (prohibited or inactive); ask the instance's administrator, then re-run.`,
  );
}

/** The security-key prompt: on to the code page when the account has the authenticator app too. */
async function leaveSecurityKeyPrompt(ctx: ConnectorContext, secondFactor: SecondFactor | undefined): Promise<Landing> {
  const codeLink = ctx.page.locator(`a[href$="/${PAGE_PATHS.twoFactor}"]`);
  if ((await codeLink.count()) === 0) throw otherMfaMethodEnabled(APP, ['webauthn']);
  if (!secondFactor) throw mfaAlreadyEnabled(APP);
  ctx.logger.info('the account has a security key too; signing in with the authenticator code instead');
  return open(ctx, `${urlsOf(ctx).base}${PAGE_PATHS.twoFactor}`, 'opening the authenticator code page');
}

async function answerCodePrompt(ctx: ConnectorContext, secondFactor: SecondFactor | undefined): Promise<Landing> {
  if (!secondFactor) throw mfaAlreadyEnabled(APP);
  const { recoveryCode } = secondFactor;
  if (recoveryCode) return answerWithRecoveryKey(ctx, () => recoveryCode.call(secondFactor, {}));
  const landing = await submitCode(ctx, 'passcode', await secondFactor.totpCode(), 'sign-in code');
  if (landing.page === 'twoFactor') throw secondFactorRefused('sign-in code');
  return landing;
}

/**
 * A recovery key is the caller's explicit choice; Gitea takes it on a page of its own, and replaces it once used. It is
 * asked for only once that page is open.
 */
async function answerWithRecoveryKey(ctx: ConnectorContext, key: () => Promise<SecretValue<string>>): Promise<Landing> {
  const page = await open(ctx, `${urlsOf(ctx).base}${PAGE_PATHS.twoFactorScratch}`, 'opening the recovery key page');
  if (page.page !== 'twoFactorScratch')
    throw challengeRequired(APP, `the recovery key page (found ${page.page ?? 'another page'})`);
  const landing = await submitCode(ctx, 'token', await key(), 'recovery key');
  if (landing.page === 'twoFactorScratch') throw secondFactorRefused('recovery key');
  return landing;
}

/** Type a code into the named field and submit it; refusals are left to the caller. */
export async function submitCode(
  ctx: ConnectorContext,
  name: string,
  code: SecretValue<string>,
  what: string,
): Promise<Landing> {
  const field = await expectVisible(ctx, formField(ctx, name), `the ${what} field`);
  await fillSecret(ctx, field, code, what);
  return submitField(ctx, field, `submitting the ${what}`);
}

/** Where a finished sign-in must not be; everything else is the instance's own page. */
export function throwIfNotSignedIn(landing: Landing): void {
  const page = landing.page;
  if (page === undefined || page === 'security') return;
  const challenge = CHALLENGES[page];
  if (challenge) throw challengeRequired(APP, challenge);
  if (page === 'login' || page === 'twoFactor' || page === 'twoFactorScratch' || page === 'webauthn') {
    throw challengeRequired(APP, `another sign-in step (Gitea's ${page} page)`);
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
