import type { Locator } from 'playwright-core';
import type { ConnectorContext } from '../sdk/connector.ts';
import { challengeRequired, connectorOutdated } from '../sdk/errors.ts';
import type { SecretValue } from '../sdk/core.ts';
import { APP } from './names.ts';
import { describe, expectPage, expectVisible, open, submit, urlsOf } from './pages.ts';
import { passReauthentication } from './sign-in.ts';

/**
 * "Deactivate Authenticator App" asks for no code, only a re-authentication (the password, or a
 * code when the site asks for one: `code` answers it). allauth deletes the recovery codes with the
 * last authenticator, so nothing is left that would still ask for a second factor.
 */
export async function disableTotp(ctx: ConnectorContext, code: SecretValue<string> | undefined): Promise<void> {
  const opened = await open(ctx, urlsOf(ctx).totpDeactivate, 'opening "Deactivate Authenticator App"');
  // No code (a session opened with a recovery code): a code re-authentication falls to ctx.stepUp, which says why not.
  const landing = await passReauthentication(ctx, opened, code ? () => Promise.resolve(code) : undefined);
  // allauth sends an account without the authenticator app to the activation page.
  if (landing.page === 'totpActivate') {
    ctx.logger.info('the authenticator app is already off');
    return;
  }
  expectPage(landing, 'totpDeactivate', 'the "Deactivate Authenticator App" page');
  const button = await expectVisible(ctx, deactivateButton(ctx), 'the "Deactivate" button');
  const done = await submit(
    ctx,
    () => button.click({ timeout: ctx.timeouts.actionMs }),
    'deactivating the authenticator app',
  );
  if (done.page === 'mfaIndex') return;
  if (done.page === 'totpDeactivate') {
    throw challengeRequired(APP, 'the deactivation by hand (the site does not let the authenticator app be removed)');
  }
  throw connectorOutdated(APP, `the Two-Factor Authentication page after "Deactivate" (found ${describe(done)})`);
}

/** The deactivation form posts to its own page; its action may be the path, the full URL or empty. */
function deactivateButton(ctx: ConnectorContext): Locator {
  const url = urlsOf(ctx).totpDeactivate;
  const form = ctx.page.locator(
    `form[action="${new URL(url).pathname}"], form[action="${url}"], form[action=""], form:not([action])`,
  );
  return form.locator('button[type="submit"], input[type="submit"], button:not([type])').first();
}
