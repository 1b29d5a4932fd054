import type { ConnectorContext } from '../sdk/connector.ts';
import { sitePages, type Landing as SiteLanding } from '../sdk/site-pages.ts';
import { APP } from './names.ts';
import { pageAt, siteUrls, type PageName, type SiteUrls } from './site-urls.ts';

/**
 * Page mechanics shared by the allauth connector's steps (connectors/sdk/site-pages.ts). allauth's
 * pages are server-rendered Django forms; a site restyles them with its own templates, so pages are
 * told apart by URL path and fields by their form field names (`login`, `password`, `code`), never by
 * text or layout. A submit's `status` is the POST's own: a 302 is a success, a 200 re-renders the form
 * with its errors, a 429 is allauth's rate limit.
 */
export type Landing = SiteLanding<PageName>;

export const { currentPage, open, submit, submitField, formField, expectVisible, expectPage, describe } =
  sitePages<PageName>({
    app: APP,
    owner: "allauth's",
    pageAt: (loginUrl, url) => pageAt(siteUrls(loginUrl), url),
  });

export function urlsOf(ctx: ConnectorContext): SiteUrls {
  return siteUrls(ctx.loginUrl);
}

/**
 * allauth's rate limits: a 429 page (per-address limits), or the form re-rendered with
 * "Too many failed login attempts" (per-account failed sign-ins and codes). English only.
 */
export async function isRateLimited(ctx: ConnectorContext, landing: Landing): Promise<boolean> {
  if (landing.status === 429) return true;
  const text = await ctx.page
    .locator('body')
    .innerText({ timeout: ctx.timeouts.actionMs })
    .catch(() => '');
  return /too many (failed )?(login )?attempts/i.test(text);
}
