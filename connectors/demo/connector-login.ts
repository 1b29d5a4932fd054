import type { Response } from 'playwright-core';
import type { ConnectorContext, Credentials, SecondFactor } from '../sdk/connector.ts';
import {
  challengeRequired,
  connectorOutdated,
  ConnectorError,
  invalidCredentials,
  mfaAlreadyEnabled,
  rateLimited,
} from '../sdk/errors.ts';
import { fillSecret } from '../sdk/secret-input.ts';
import { signInInSteps, type SignInForm } from '../sdk/sign-in-flow.ts';
import type { SecretValue } from '../sdk/core.ts';
import { APP, DEMO_PAGES, expectVisible, open, pathOf, submit } from './connector-pages.ts';

/** The demo's sign-in form: email and password on one page (the SDK also handles them on two). */
const SIGN_IN_FORM: SignInForm = {
  username: (ctx) => ctx.page.getByLabel('Email address'),
  password: (ctx) => ctx.page.getByLabel('Password', { exact: true }),
  submit: (ctx) => ctx.page.getByRole('button', { name: 'Sign in' }),
};

export async function signIn(
  ctx: ConnectorContext,
  credentials: Credentials,
  secondFactor?: SecondFactor,
): Promise<void> {
  await open(ctx, ctx.loginUrl.href, 'opening the sign-in page');
  const responses = await signInInSteps(ctx, DEMO_PAGES, SIGN_IN_FORM, credentials);
  checkPasswordResponse(responses.password);
  await answerSecondFactor(ctx, secondFactor);
  if (pathOf(ctx) === '/login/verify-human') throw challengeRequired(APP, 'a captcha ("Verify you are human")');
  // The dashboard is `/` (test/apps/demo/README.md): the URL says so without a query, and so without
  // the page-script set-up the first query on a new page costs (40-80 ms here, more than any read).
  if (pathOf(ctx) !== '/') throw connectorOutdated(APP, 'the dashboard (/) after sign-in');
}

function checkPasswordResponse(response: Response): void {
  if (response.status() === 429) throw rateLimited(APP, retryAfterSeconds(response.headers()['retry-after']));
  if (response.status() === 401) throw invalidCredentials(APP);
}

async function answerSecondFactor(ctx: ConnectorContext, secondFactor?: SecondFactor): Promise<void> {
  if (pathOf(ctx) !== '/login/two-factor') return;
  if (!secondFactor) throw mfaAlreadyEnabled(APP);
  const { recoveryCode } = secondFactor;
  if (recoveryCode) {
    await submitRecoveryCode(ctx, () => recoveryCode.call(secondFactor, {}));
    return;
  }
  const field = await expectVisible(ctx, ctx.page.getByLabel('Authentication code'), 'Authentication code field');
  await fillSecret(ctx, field, await secondFactor.totpCode(), 'sign-in code');
  const response = await submit(ctx, ctx.page.getByRole('button', { name: 'Verify' }), 'submitting the sign-in code');
  if (response.status() === 401) throw secondFactorRefused('authentication code');
}

/** The demo app takes any unused recovery code; one is asked for only once its field is there. */
async function submitRecoveryCode(ctx: ConnectorContext, code: () => Promise<SecretValue<string>>): Promise<void> {
  await ctx.page.getByRole('link', { name: 'Use a recovery code' }).click({ timeout: ctx.timeouts.actionMs });
  const field = await expectVisible(ctx, ctx.page.getByLabel('Recovery code'), 'Recovery code field');
  await fillSecret(ctx, field, await code(), 'recovery code');
  const response = await submit(ctx, ctx.page.getByRole('button', { name: 'Verify' }), 'submitting a recovery code');
  if (response.status() === 401) throw secondFactorRefused('recovery code');
}

/** The stored second factor does not match the account: a human has to sort out which seed is right. */
function secondFactorRefused(what: string): ConnectorError {
  return new ConnectorError(
    'InvalidCredentials',
    `${APP} refused the ${what} generated from the stored seed; the stored seed does not match the account. ` +
      'Check which authenticator the account uses before re-running.',
  );
}

function retryAfterSeconds(header: string | undefined): number | undefined {
  const seconds = Number(header);
  return header !== undefined && Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}
