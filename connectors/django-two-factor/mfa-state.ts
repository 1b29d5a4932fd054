import type { ConnectorContext, MfaState } from '../sdk/connector.ts';
import { challengeRequired, connectorOutdated } from '../sdk/errors.ts';
import { APP } from './names.ts';
import { describe, open, urlsOf } from './pages.ts';
import { PAGE_PATHS, pageAt, type SiteUrls } from './site-urls.ts';

/**
 * "Account Security" (two_factor/profile/profile.html) links to "Enable Two-Factor Authentication"
 * (setup/) when the account has no device, and to "Show Codes" (backup/tokens/) and "Disable" when it
 * has one. The links' targets are the contract, not their text.
 */
export async function readMfaState(ctx: ConnectorContext): Promise<MfaState> {
  const urls = urlsOf(ctx);
  const landing = await open(ctx, urls.profile, 'opening Account Security');
  if (landing.page === 'login') throw challengeRequired(APP, 'a sign-in again (the session was not signed in)');
  if (landing.page !== 'profile')
    throw connectorOutdated(APP, `Account Security at ${PAGE_PATHS.profile} (found ${describe(landing)})`);
  // Resolved by the browser (`link.href`), so relative and absolute links read alike.
  const hrefs = await ctx.page
    .locator('a[href]')
    .evaluateAll((links) => links.map((link) => String((link as unknown as { href: string }).href)));
  return mfaStateFromLinks(urls, hrefs);
}

/**
 * The package keeps one primary device per account (`default`); with the email plugin it may be an email
 * device, which this page does not tell apart from an authenticator app but by its text, so any
 * primary device reads as on (docs/connectors.md, its limits).
 */
export function mfaStateFromLinks(urls: SiteUrls, hrefs: readonly string[]): MfaState {
  const pages = new Set(hrefs.map((href) => pageAt(urls, href)));
  if (!pages.has('setup') && !pages.has('disable')) {
    throw connectorOutdated(APP, `a link to ${PAGE_PATHS.setup} or ${PAGE_PATHS.disable} on Account Security`);
  }
  return { totpEnabled: pages.has('disable'), otherMethods: [] };
}
