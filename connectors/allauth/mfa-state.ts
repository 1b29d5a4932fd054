import type { ConnectorContext, MfaState } from '../sdk/connector.ts';
import { challengeRequired, connectorOutdated } from '../sdk/errors.ts';
import { APP } from './names.ts';
import { describe, open, urlsOf } from './pages.ts';
import { PAGE_PATHS, pageAt, type SiteUrls } from './site-urls.ts';

/**
 * allauth's "Two-Factor Authentication" page (mfa/index.html) links to "Deactivate" when the
 * authenticator app is on and to "Activate" when it is off; security keys, when the site offers
 * them, link to their list once one is added. The links' targets are the contract, not their text.
 */
export async function readMfaState(ctx: ConnectorContext): Promise<MfaState> {
  const urls = urlsOf(ctx);
  const landing = await open(ctx, urls.mfaIndex, 'opening the Two-Factor Authentication page');
  if (landing.page === 'login') throw challengeRequired(APP, 'a sign-in again (the session was not signed in)');
  if (landing.page !== 'mfaIndex')
    throw connectorOutdated(
      APP,
      `the Two-Factor Authentication page at ${PAGE_PATHS.mfaIndex} (found ${describe(landing)})`,
    );
  // Resolved by the browser (`link.href`), so relative and absolute links read alike.
  const hrefs = await ctx.page
    .locator('a[href]')
    .evaluateAll((links) => links.map((link) => String((link as unknown as { href: string }).href)));
  return mfaStateFromLinks(urls, hrefs);
}

export function mfaStateFromLinks(urls: SiteUrls, hrefs: readonly string[]): MfaState {
  const pages = new Set(hrefs.map((href) => pageAt(urls, href)));
  if (!pages.has('totpActivate') && !pages.has('totpDeactivate')) {
    throw connectorOutdated(
      APP,
      `a link to ${PAGE_PATHS.totpActivate} or ${PAGE_PATHS.totpDeactivate} on the Two-Factor Authentication page`,
    );
  }
  return { totpEnabled: pages.has('totpDeactivate'), otherMethods: pages.has('webauthnList') ? ['webauthn'] : [] };
}
