import type { Locator, Response } from 'playwright-core';
import type { ConnectorContext, Credentials } from './connector.ts';
import type { AppPages } from './pages.ts';
import { fillSecret } from './secret-input.ts';

/** The fields and buttons of an app's sign-in, found on whichever page is showing. */
export interface SignInForm {
  readonly username: (ctx: ConnectorContext) => Locator;
  readonly password: (ctx: ConnectorContext) => Locator;
  /** What submits the email page ("Next", "Continue"); default: Enter in the username field. */
  readonly next?: (ctx: ConnectorContext) => Locator;
  /** What submits the password; default: Enter in the password field. */
  readonly submit?: (ctx: ConnectorContext) => Locator;
}

/** What the app answered at each page; `username` is absent when one page took both or the page revealed the password in place. */
export interface SignInResponses {
  readonly username?: Response;
  readonly password: Response;
}

/**
 * Sign in on one page (username and password together) or on two (the email first, then, on the
 * next page, the password), whichever the app shows: when the password field is not on the page
 * with the username, the username is submitted on its own and the password typed on the page that
 * answers. Returns each page's POST response so the connector can map refusals (401, 429, a
 * re-rendered form) to its errors; the app's checks between the pages (an unknown email) are
 * there for the connector to read before it calls `password`.
 *
 * `checkUsername` runs after the email page was submitted and before the password is typed: throw
 * there (InvalidCredentials, RateLimited, ChallengeRequired) when the app did not move on.
 */
export async function signInInSteps(
  ctx: ConnectorContext,
  pages: AppPages,
  form: SignInForm,
  credentials: Credentials,
  checkUsername: (response: Response) => Promise<void> | void = () => undefined,
): Promise<SignInResponses> {
  const username = await pages.expectVisible(ctx, form.username(ctx), 'the username or email field');
  await fillSecret(ctx, username, credentials.username, 'username');
  let usernameResponse: Response | undefined;
  if (!(await form.password(ctx).isVisible())) {
    // Either a new page (a POST that loads one) or the same page revealing its password field.
    const posted = pages.submit(
      ctx,
      form.next ? form.next(ctx) : () => username.press('Enter', { timeout: ctx.timeouts.actionMs }),
      'submitting the username',
    );
    const revealed = form
      .password(ctx)
      .waitFor({ state: 'visible', timeout: ctx.timeouts.navigationMs })
      .then(() => undefined);
    posted.catch(() => undefined);
    revealed.catch(() => undefined);
    usernameResponse = await Promise.any([posted, revealed]).catch(() => posted);
    if (usernameResponse) await checkUsername(usernameResponse);
  }
  const password = await pages.expectVisible(ctx, form.password(ctx), 'the password field');
  await fillSecret(ctx, password, credentials.password, 'password');
  const passwordResponse = await pages.submit(
    ctx,
    form.submit ? form.submit(ctx) : () => password.press('Enter', { timeout: ctx.timeouts.actionMs }),
    'signing in',
  );
  return { ...(usernameResponse ? { username: usernameResponse } : {}), password: passwordResponse };
}
