import type { ConnectorContext, Credentials, SecondFactor } from '../sdk/connector.ts';
import {
  challengeRequired,
  ConnectorError,
  invalidCredentials,
  mfaAlreadyEnabled,
  rateLimited,
  stepUpRequired,
} from '../sdk/errors.ts';
import { fillSecret } from '../sdk/secret-input.ts';
import type { SecretValue } from '../sdk/core.ts';
import { APP } from './names.ts';
import { expectVisible, formField, isRateLimited, open, submitField, urlsOf, type Landing } from './pages.ts';
import type { PageName } from './site-urls.ts';

/** Pages after the password that only a person can get past, and what they ask for. */
const CHALLENGES: Partial<Record<PageName, string>> = {
  loginCode: 'a sign-in code sent by email',
  emailVerification: 'an email address verification',
  mfaTrust: 'whether to trust this browser (MFA_TRUST_ENABLED)',
};

/**
 * allauth's sign-in: the login form (`login`, `password`), then, for an account with MFA, the
 * "Two-Factor Authentication" page (`code`), which takes an authenticator code or a recovery code.
 * Any page that is neither, nor a known challenge, is the site's own: signed in.
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
      `a sign-in page other than allauth's login form (found ${first.page ?? 'another page'})`,
    );
  let landing = await submitPassword(ctx, credentials);
  if (landing.page === 'mfaAuthenticate') landing = await answerCodePrompt(ctx, landing, secondFactor);
  throwIfNotSignedIn(landing);
}

async function submitPassword(ctx: ConnectorContext, credentials: Credentials): Promise<Landing> {
  const login = await expectVisible(ctx, formField(ctx, 'login'), 'the login (username or email) field');
  await fillSecret(ctx, login, credentials.username, 'username');
  const password = await expectVisible(ctx, formField(ctx, 'password'), 'the password field');
  await fillSecret(ctx, password, credentials.password, 'password');
  const landing = await submitField(ctx, password, 'signing in');
  if (await isRateLimited(ctx, landing)) throw rateLimited(APP);
  if (landing.page === 'login') throw invalidCredentials(APP);
  return landing;
}

async function answerCodePrompt(
  ctx: ConnectorContext,
  prompt: Landing,
  secondFactor: SecondFactor | undefined,
): Promise<Landing> {
  if (!secondFactor) throw mfaAlreadyEnabled(APP);
  // allauth's one code field takes either kind; a recovery code is the caller's explicit choice.
  // allauth's one code field takes either kind, and any unused recovery code.
  const code = secondFactor.recoveryCode ? await secondFactor.recoveryCode({}) : await secondFactor.totpCode();
  const what = secondFactor.recoveryCode ? 'recovery code' : 'sign-in code';
  const landing = await submitCode(ctx, code, what);
  if (landing.page === prompt.page) throw secondFactorRefused(what);
  return landing;
}

/** Type a code into the page's `code` field and submit it; rate limits are reported, refusals left to the caller. */
export async function submitCode(ctx: ConnectorContext, code: SecretValue<string>, what: string): Promise<Landing> {
  const field = await expectVisible(ctx, formField(ctx, 'code'), 'the code field');
  await fillSecret(ctx, field, code, what);
  const landing = await submitField(ctx, field, `submitting the ${what}`);
  if (await isRateLimited(ctx, landing)) throw rateLimited(APP);
  return landing;
}

/** Where a finished sign-in must not be; everything else is the site's own page. */
export function throwIfNotSignedIn(landing: Landing): void {
  const page = landing.page;
  if (page === undefined) return;
  if (page === 'inactive') {
    throw new ConnectorError(
      'InvalidCredentials',
      `${APP} says the account is inactive; ask the site's administrator to activate it, then re-run.`,
    );
  }
  const challenge = CHALLENGES[page];
  if (challenge) throw challengeRequired(APP, challenge);
  if (page === 'login' || page === 'mfaAuthenticate' || page === 'reauthenticate' || page === 'mfaReauthenticate') {
    throw challengeRequired(APP, `another sign-in step (allauth's ${page} page)`);
  }
}

/**
 * allauth asks to re-authenticate before an authenticator is added or removed, unless the session
 * re-authenticated within ACCOUNT_REAUTHENTICATION_TIMEOUT (300 s by default); a fresh sign-in
 * does not count. Answers with the stored password, or with a code when the site asks for one.
 * Returns where the site sends the browser afterwards (the page that was asked for).
 */
export async function passReauthentication(
  ctx: ConnectorContext,
  landing: Landing,
  code?: () => Promise<SecretValue<string>>,
): Promise<Landing> {
  if (landing.page === 'reauthenticate') {
    ctx.logger.info('the site asked to confirm the password; confirming with the stored credentials');
    const password = await expectVisible(ctx, formField(ctx, 'password'), 'the password field of "Confirm Access"');
    await fillSecret(ctx, password, ctx.stepUp.credentials.password, 'password confirmation');
    const next = await submitField(ctx, password, 'confirming the password');
    if (await isRateLimited(ctx, next)) throw rateLimited(APP);
    if (next.page === 'reauthenticate') throw stepUpRequired(APP, 'password');
    return next;
  }
  if (landing.page === 'mfaReauthenticate') {
    ctx.logger.info('the site asked to confirm with an authenticator code');
    const factor = ctx.stepUp.secondFactor;
    const source = code ?? (factor ? () => factor.totpCode() : undefined);
    if (!source) throw stepUpRequired(APP, 'an authenticator code');
    const next = await submitCode(ctx, await source(), 'confirmation code');
    if (next.page === 'mfaReauthenticate') throw stepUpRequired(APP, 'authenticator code');
    return next;
  }
  return landing;
}

/** The stored second factor does not match the account: a person has to find out which is right. */
function secondFactorRefused(what: string): ConnectorError {
  return new ConnectorError(
    'InvalidCredentials',
    `${APP} refused the ${what} from the stored material; it does not match the account. ` +
      'Check which authenticator the account uses before re-running.',
  );
}
