import type { Locator } from 'playwright-core';
import type { ConnectorContext } from '../sdk/connector.ts';
import { connectorOutdated, rateLimited } from '../sdk/errors.ts';
import { appPages } from '../sdk/pages.ts';
import { APP } from './names.ts';
import { pageAt, siteUrls, type PageName, type SiteUrls } from './site-urls.ts';

/**
 * Page mechanics shared by the Gitea connector's steps. The pages it drives are server-rendered
 * forms (Go templates): told apart by URL path, fields by their form names (`user_name`,
 * `password`, `passcode`, `token`) and forms by their action, never by text, so any UI language works.
 */

const GITEA_PAGES = appPages(APP);

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
  const response = await GITEA_PAGES.open(ctx, url, step);
  return landing(ctx, response?.status() ?? 0, response?.headers()['retry-after']);
}

/** Submit a form and wait for the page Gitea answers with: a 303 to the next page on success, the form re-rendered with 200 on a refusal. */
export async function submit(ctx: ConnectorContext, action: () => Promise<void>, step: string): Promise<Landing> {
  const response = await GITEA_PAGES.submit(ctx, action, step);
  return landing(ctx, response.status(), response.headers()['retry-after']);
}

/** Submit the form a filled field belongs to, as Enter in that field does (the form's default button). */
export function submitField(ctx: ConnectorContext, field: Locator, step: string): Promise<Landing> {
  return submit(ctx, () => field.press('Enter', { timeout: ctx.timeouts.actionMs }), step);
}

/**
 * POST a form the way the browser does without scripts. Gitea's frontend bundle turns some buttons
 * into a confirmation dialog and a fetch (`data-modal-confirm`, `form-fetch-action`);
 * `HTMLFormElement.submit()` skips those handlers, so the same request goes out whether or not an
 * instance serves the bundle, and the server answers it with its usual redirect.
 */
export function submitNatively(ctx: ConnectorContext, form: Locator, step: string): Promise<Landing> {
  return submit(ctx, () => form.evaluate((element) => (element as unknown as { submit(): void }).submit(), undefined,
    { timeout: ctx.timeouts.actionMs }), step);
}

/** A form field by its name, as Gitea's templates define it. */
export function formField(ctx: ConnectorContext, name: string): Locator {
  return ctx.page.locator(`form input[name="${name}"]:not([type="hidden"])`).first();
}

/** A form by where it posts to: `path` under the instance's base, as a path (Gitea's own templates) or a full URL. */
export function formPostingTo(ctx: ConnectorContext, path: string): Locator {
  const target = `${urlsOf(ctx).base}${path}`;
  return ctx.page.locator(`form[action="${new URL(target).pathname}"], form[action="${target}"]`).first();
}

/** Gitea's flash messages (`.flash-message`, under the page header). */
export const FLASH_MESSAGE = '.flash-message';

export const { expectVisible } = GITEA_PAGES;

export function expectPage(landed: Landing, page: PageName, name: string): void {
  if (landed.page !== page) throw connectorOutdated(APP, `${name} (found ${describe(landed)})`);
}

export function describe(landed: Landing): string {
  return landed.page ? `Gitea's ${landed.page} page` : `another page (HTTP ${landed.status})`;
}

/** Any page answered 429 (a proxy's limit; Gitea has none of its own) is RateLimited, with its Retry-After seconds. */
function landing(ctx: ConnectorContext, status: number, retryAfter: string | undefined): Landing {
  if (status === 429) {
    const seconds = retryAfter !== undefined && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter.trim()) : undefined;
    throw rateLimited(APP, seconds);
  }
  return { page: currentPage(ctx), status };
}
