import { errors, type Locator } from 'playwright-core';
import type { ConnectorContext } from '../sdk/connector.ts';
import { connectorOutdated, timedOut } from '../sdk/errors.ts';
import { expectVisible as expectContractElement } from '../sdk/page-contract.ts';
import { APP } from './names.ts';
import { pageAt, siteUrls, type PageName, type SiteUrls } from './site-urls.ts';

/**
 * Page mechanics shared by the allauth connector's steps. allauth's pages are server-rendered
 * Django forms; a site restyles them with its own templates, so pages are told apart by URL path
 * and fields by their form field names (`login`, `password`, `code`), never by text or layout.
 */

/** Where the browser is after a step, and the status of the response that put it there. */
export interface Landing {
  readonly page: PageName | undefined;
  readonly status: number;
}

export function urlsOf(ctx: ConnectorContext): SiteUrls {
  return siteUrls(ctx.loginUrl);
}

export function currentPage(ctx: ConnectorContext): PageName | undefined {
  return pageAt(urlsOf(ctx), ctx.page.url());
}

/** Go to a page and wait until the page it ends on (after redirects) has loaded. */
export async function open(ctx: ConnectorContext, url: string, step: string): Promise<Landing> {
  try {
    const response = await ctx.page.goto(url, { waitUntil: 'load', timeout: ctx.timeouts.navigationMs });
    return { page: currentPage(ctx), status: response?.status() ?? 0 };
  } catch (e: unknown) {
    throw asTimeout(e, step);
  }
}

/**
 * Submit a form and wait for the page the site answers with. `status` is the POST's own response:
 * a 302 is a success, a 200 re-renders the form with its errors, a 429 is allauth's rate limit.
 * Waiting for the main frame to commit a new document keeps the old page from being read as the new one.
 */
export async function submit(ctx: ConnectorContext, action: () => Promise<void>, step: string): Promise<Landing> {
  const { page, timeouts } = ctx;
  try {
    const navigated = page.waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame(), timeout: timeouts.navigationMs });
    const posted = page.waitForResponse((r) => r.request().method() === 'POST' && r.request().isNavigationRequest(),
      { timeout: timeouts.navigationMs });
    // Either wait may fail first; keep the other from becoming an unhandled rejection.
    navigated.catch(() => undefined);
    posted.catch(() => undefined);
    await action();
    const response = await posted;
    await navigated;
    await page.waitForLoadState('load', { timeout: timeouts.navigationMs });
    return { page: currentPage(ctx), status: response.status() };
  } catch (e: unknown) {
    throw asTimeout(e, step);
  }
}

/** Submit the form a filled field belongs to, as Enter in that field does (the form's default button). */
export function submitField(ctx: ConnectorContext, field: Locator, step: string): Promise<Landing> {
  return submit(ctx, () => field.press('Enter', { timeout: ctx.timeouts.actionMs }), step);
}

/** A form field by its Django name; restyled templates keep the names the forms define. */
export function formField(ctx: ConnectorContext, name: string): Locator {
  return ctx.page.locator(`form input[name="${name}"]:not([type="hidden"])`).first();
}

/** An element the page contract promises; missing means the site's pages are not allauth's as the connector knows them. */
export function expectVisible(ctx: ConnectorContext, element: Locator, name: string): Promise<Locator> {
  return expectContractElement(ctx, element, name, APP);
}

export function expectPage(landing: Landing, page: PageName, name: string): void {
  if (landing.page !== page) throw connectorOutdated(APP, `${name} (found ${describe(landing)})`);
}

export function describe(landing: Landing): string {
  return landing.page ? `allauth's ${landing.page} page` : `another page (HTTP ${landing.status})`;
}

/**
 * allauth's rate limits: a 429 page (per-address limits), or the form re-rendered with
 * "Too many failed login attempts" (per-account failed sign-ins and codes). English only.
 */
export async function isRateLimited(ctx: ConnectorContext, landing: Landing): Promise<boolean> {
  if (landing.status === 429) return true;
  const text = await ctx.page.locator('body').innerText({ timeout: ctx.timeouts.actionMs }).catch(() => '');
  return /too many (failed )?(login )?attempts/i.test(text);
}

function asTimeout(e: unknown, step: string): unknown {
  return e instanceof errors.TimeoutError ? timedOut(APP, step, e) : e;
}
