import type { ConnectorContext, Credentials, SecondFactor } from '../sdk/connector.ts';
import type { Locator } from 'playwright-core';
import {
  challengeRequired,
  connectorOutdated,
  ConnectorError,
  invalidCredentials,
  mfaAlreadyEnabled,
  otherMfaMethodEnabled,
  rateLimited,
  stepUpRequired,
  timedOut,
} from '../sdk/errors.ts';
import { fillSecret } from '../sdk/secret-input.ts';
import { APP, DEVICE_NAME } from './names.ts';
import { clickAndNavigate, expectLoginPage, feedbackText, LOGIN_PAGES, openPage, type KeycloakPage } from './pages.ts';
import { realmUrls } from './realm-url.ts';
import { expectThemed, themed } from './theme.ts';

/**
 * What to answer Keycloak's sign-in pages with. `signIn` is the run's own login; `stepUp` is the
 * re-authentication Keycloak asks for before a credential is added or deleted when the login is
 * older than the required action's "maximum age of authentication" (300 s by default).
 */
export interface SignInAnswers {
  readonly purpose: 'signIn' | 'stepUp';
  readonly credentials: Credentials;
  readonly secondFactor?: SecondFactor;
}

/** A realm can chain a few prompts (password, code, "try another way"); more means a loop. */
const MAX_PROMPTS = 6;

/** Pages after sign-in that only a person can complete. */
const OTHER_MFA_PAGES: Readonly<Record<string, string>> = {
  'login-webauthn-authenticate': 'webauthn',
  'login-login-passkeys-conditional-authenticate': 'passkey',
};

export async function signIn(
  ctx: ConnectorContext,
  credentials: Credentials,
  secondFactor?: SecondFactor,
): Promise<void> {
  const urls = realmUrls(ctx.loginUrl);
  const first = await openPage(ctx, urls.account, 'opening the account console');
  const page = await passSignInPages(ctx, first, {
    purpose: 'signIn',
    credentials,
    ...(secondFactor ? { secondFactor } : {}),
  });
  // A realm that makes users set up an authenticator at sign-in lands on the very page enrollment needs.
  if (page.kind === 'account' || (page.kind === 'login' && page.id === LOGIN_PAGES.configureTotp)) return;
  throw unanswerable(page);
}

/** Answer sign-in prompts until Keycloak shows a page that is not one; returns that page. */
export async function passSignInPages(
  ctx: ConnectorContext,
  first: KeycloakPage,
  answers: SignInAnswers,
): Promise<KeycloakPage> {
  let page = first;
  for (let prompts = 0; prompts < MAX_PROMPTS; prompts++) {
    if (page.kind !== 'login') return page;
    const next = await answerPrompt(ctx, page.id, answers);
    if (!next) return page;
    page = next;
  }
  throw challengeRequired(APP, `more than ${MAX_PROMPTS} sign-in prompts in a row`);
}

async function answerPrompt(
  ctx: ConnectorContext,
  pageId: string,
  answers: SignInAnswers,
): Promise<KeycloakPage | undefined> {
  switch (pageId) {
    case LOGIN_PAGES.password:
      return submitPassword(ctx, answers);
    case LOGIN_PAGES.otp:
      return answerOtpPrompt(ctx, answers);
    case LOGIN_PAGES.recoveryCode:
      return answerRecoveryCodePrompt(ctx, answers);
    default:
      return undefined;
  }
}

async function submitPassword(ctx: ConnectorContext, answers: SignInAnswers): Promise<KeycloakPage> {
  // Re-authentication shows the username read-only, or not at all.
  const username = themed(ctx, 'username');
  if ((await username.count()) > 0 && (await username.isEditable())) {
    await fillSecret(ctx, username, answers.credentials.username, 'username');
  }
  const password = await expectThemed(ctx, 'password', 'the Password field');
  await fillSecret(ctx, password, answers.credentials.password, 'password');
  const next = await clickAndNavigate(ctx, themed(ctx, 'signIn'), 'signing in');
  if (next.kind === 'login' && next.id === LOGIN_PAGES.password)
    throw passwordRefused(await feedbackText(ctx), answers.purpose);
  return next;
}

/** Keycloak's messages (English theme): see messages_en.properties of the release. */
export function passwordRefused(feedback: string, purpose: SignInAnswers['purpose']): ConnectorError {
  if (/temporarily (disabled|locked)/i.test(feedback)) return rateLimited(APP);
  if (/timeout|expired/i.test(feedback)) return timedOut(APP, 'signing in');
  if (/account is disabled|permanently/i.test(feedback)) {
    return new ConnectorError(
      'InvalidCredentials',
      `${APP} says the account is disabled; ask the realm administrator to enable it, then re-run.`,
    );
  }
  return purpose === 'stepUp' ? stepUpRequired(APP, 'password') : invalidCredentials(APP);
}

async function answerOtpPrompt(ctx: ConnectorContext, answers: SignInAnswers): Promise<KeycloakPage> {
  const factor = requireSecondFactor(answers, 'an authenticator code');
  if (factor.recoveryCode) return switchToRecoveryCode(ctx, factor);
  await selectOwnOtpDevice(ctx);
  const field = await expectThemed(ctx, 'otp', 'the One-time code field');
  await fillSecret(ctx, field, await factor.totpCode(), 'sign-in code');
  const next = await clickAndNavigate(ctx, themed(ctx, 'signIn'), 'submitting the sign-in code');
  if (next.kind === 'login' && next.id === LOGIN_PAGES.otp) throw secondFactorRefused('authenticator code');
  return next;
}

/** With several authenticators the page asks which one the code is from; pick the operator's. */
async function selectOwnOtpDevice(ctx: ConnectorContext): Promise<void> {
  const devices = themed(ctx, 'otpDevice');
  if ((await devices.count()) < 2) return;
  const own = devices.filter({ hasText: DEVICE_NAME });
  if ((await own.count()) > 0) await own.first().click({ timeout: ctx.timeouts.actionMs });
  else ctx.logger.warn('several authenticators and none named by the operator; using the one Keycloak selected');
}

async function answerRecoveryCodePrompt(ctx: ConnectorContext, answers: SignInAnswers): Promise<KeycloakPage> {
  const factor = requireSecondFactor(answers, 'a recovery code');
  if (!factor.recoveryCode) throw challengeRequired(APP, 'a recovery code (the account has no authenticator app)');
  return submitRecoveryCode(ctx, factor);
}

async function switchToRecoveryCode(ctx: ConnectorContext, factor: SecondFactor): Promise<KeycloakPage> {
  const chooser = await clickAndNavigate(ctx, themed(ctx, 'tryAnotherWay'), 'choosing another way to sign in');
  expectLoginPage(chooser, LOGIN_PAGES.selectAuthenticator, 'the "Select login method" page');
  const option = ctx.page.getByRole('button', { name: /recovery authentication code/i });
  if ((await option.count()) === 0) {
    throw challengeRequired(
      APP,
      'a sign-in method other than a recovery code (the realm does not offer recovery codes at sign-in)',
    );
  }
  const prompt = await clickAndNavigate(ctx, option.first(), 'choosing to sign in with a recovery code');
  expectLoginPage(prompt, LOGIN_PAGES.recoveryCode, 'the recovery code page');
  return submitRecoveryCode(ctx, factor);
}

/**
 * Keycloak asks for one particular code ("Recovery code #3": the first one it has not seen used), so the caller is
 * asked for that position; codes are stored in the order the app showed them.
 */
async function submitRecoveryCode(ctx: ConnectorContext, factor: SecondFactor): Promise<KeycloakPage> {
  const field = await expectThemed(ctx, 'recoveryCode', 'the Recovery code field');
  const index = await askedRecoveryCodeIndex(ctx, field);
  await fillSecret(ctx, field, await factor.recoveryCode!({ index }), 'recovery code');
  const next = await clickAndNavigate(ctx, themed(ctx, 'signIn'), 'submitting a recovery code');
  if (next.kind === 'login' && next.id === LOGIN_PAGES.recoveryCode) throw secondFactorRefused('recovery code');
  return next;
}

/** The field's label says which code: "Recovery code #N" is index N - 1. Without it, no code is asked for. */
async function askedRecoveryCodeIndex(ctx: ConnectorContext, field: Locator): Promise<number> {
  const label = await field.evaluate((input: { labels: ArrayLike<{ textContent: string | null }> | null }) =>
    Array.from(input.labels ?? [], (l) => l.textContent ?? '').join(' '),
  );
  const index = recoveryCodeIndexOf(label);
  if (index === undefined)
    throw connectorOutdated(APP, `the recovery code field's label to name the code it asks for ("Recovery code #N")`);
  return index;
}

/** "Recovery code #3" → 2; undefined when the text names no position. */
export function recoveryCodeIndexOf(label: string): number | undefined {
  const match = /#\s*(\d{1,4})\b/.exec(label);
  const n = match ? Number(match[1]) : 0;
  return n >= 1 ? n - 1 : undefined;
}

function requireSecondFactor(answers: SignInAnswers, what: string): SecondFactor {
  if (answers.secondFactor) return answers.secondFactor;
  if (answers.purpose === 'stepUp') throw stepUpRequired(APP, what);
  throw mfaAlreadyEnabled(APP);
}

/** The stored second factor does not match the account: a person has to find out which is right. */
function secondFactorRefused(what: string): ConnectorError {
  return new ConnectorError(
    'InvalidCredentials',
    `${APP} refused the ${what} from the stored material; it does not match the account. ` +
      'Check which authenticator the account uses before re-running.',
  );
}

/** A page after the password that the operator cannot complete. */
export function unanswerable(page: KeycloakPage): ConnectorError {
  if (page.kind !== 'login') return challengeRequired(APP, 'an unexpected page');
  const method = OTHER_MFA_PAGES[page.id];
  if (method) return otherMfaMethodEnabled(APP, [method]);
  return challengeRequired(APP, `the "${page.title || page.id}" step`);
}
