import type { ConnectorContext, MfaState } from '../sdk/connector.ts';
import { challengeRequired, connectorOutdated } from '../sdk/errors.ts';
import { APP } from './names.ts';
import { describe, open, urlsOf } from './pages.ts';
import { PAGE_PATHS, type SiteUrls } from './site-urls.ts';

/** What Settings → Security links and posts to, resolved to absolute URLs by the browser. */
export interface SecurityPageTargets {
  readonly links: readonly string[];
  readonly formActions: readonly string[];
  /** `data-url` of buttons: the security keys' delete buttons. */
  readonly buttonUrls: readonly string[];
}

export const DISABLE_PATH = `${PAGE_PATHS.security}/two_factor/disable`;
const WEBAUTHN_DELETE_PATH = `${PAGE_PATHS.security}/webauthn/delete`;

/**
 * Settings → Security (user/settings/security/twofa.tmpl and webauthn.tmpl): with the authenticator
 * app on it has the "Disable" form (posting to two_factor/disable), with it off the "Enroll" link;
 * each registered security key has a delete button. The targets are the contract, not their text.
 */
export async function readMfaState(ctx: ConnectorContext): Promise<MfaState> {
  const landing = await open(ctx, urlsOf(ctx).security, 'opening Settings → Security');
  if (landing.page === 'login') throw challengeRequired(APP, 'a sign-in again (the session was not signed in)');
  if (landing.page !== 'security')
    throw connectorOutdated(APP, `Settings → Security at ${PAGE_PATHS.security} (found ${describe(landing)})`);
  return mfaStateFromTargets(urlsOf(ctx), await securityPageTargets(ctx));
}

export async function securityPageTargets(ctx: ConnectorContext): Promise<SecurityPageTargets> {
  const { page } = ctx;
  const base = page.url();
  const resolve = (values: readonly (string | null)[]) =>
    values.filter((v): v is string => Boolean(v)).map((v) => new URL(v, base).href);
  return {
    links: resolve(await page.locator('a[href]').evaluateAll((all) => all.map((a) => a.getAttribute('href')))),
    formActions: resolve(
      await page.locator('form[action]').evaluateAll((all) => all.map((form) => form.getAttribute('action'))),
    ),
    buttonUrls: resolve(
      await page.locator('[data-url]').evaluateAll((all) => all.map((button) => button.getAttribute('data-url'))),
    ),
  };
}

/** The state from the page's targets: only the instance's own paths count (origin and sub-path included). */
export function mfaStateFromTargets(urls: SiteUrls, targets: SecurityPageTargets): MfaState {
  const has = (list: readonly string[], path: string) =>
    list.some((url) => {
      const target = new URL(url);
      return `${target.origin}${target.pathname}` === `${urls.base}${path}`;
    });
  const enabled = has(targets.formActions, DISABLE_PATH);
  if (!enabled && !has(targets.links, PAGE_PATHS.enroll)) {
    throw connectorOutdated(
      APP,
      `the "Enroll" link (${PAGE_PATHS.enroll}) or the "Disable" form (${DISABLE_PATH}) on Settings → Security ` +
        '(both are absent when the instance disables manage_mfa for the user)',
    );
  }
  return { totpEnabled: enabled, otherMethods: has(targets.buttonUrls, WEBAUTHN_DELETE_PATH) ? ['webauthn'] : [] };
}
