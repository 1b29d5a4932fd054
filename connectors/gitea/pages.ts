import type { Locator, Response } from 'playwright-core';
import type { ConnectorContext } from '../sdk/connector.ts';
import { rateLimited } from '../sdk/errors.ts';
import { sitePages, type Landing as SiteLanding } from '../sdk/site-pages.ts';
import { APP } from './names.ts';
import { pageAt, siteUrls, type PageName, type SiteUrls } from './site-urls.ts';

/**
 * Page mechanics shared by the Gitea connector's steps (connectors/sdk/site-pages.ts). The pages it
 * drives are server-rendered forms (Go templates): told apart by URL path, fields by their form names
 * (`user_name`, `password`, `passcode`, `token`) and forms by their action, never by text, so any UI
 * language works. A submit answers a 303 to the next page on success, the form re-rendered with 200 on a refusal.
 */
export type Landing = SiteLanding<PageName>;

export const { currentPage, open, submit, submitField, formField, expectVisible, expectPage, describe } =
  sitePages<PageName>({
    app: APP,
    owner: "Gitea's",
    pageAt: (loginUrl, url) => pageAt(siteUrls(loginUrl), url),
    check: throwIfRateLimited,
  });

export function urlsOf(ctx: ConnectorContext): SiteUrls {
  return siteUrls(ctx.loginUrl);
}

/**
 * POST a form the way the browser does without scripts. Gitea's frontend bundle turns some buttons
 * into a confirmation dialog and a fetch (`data-modal-confirm`, `form-fetch-action`);
 * `HTMLFormElement.submit()` skips those handlers, so the same request goes out whether or not an
 * instance serves the bundle, and the server answers it with its usual redirect.
 */
export function submitNatively(ctx: ConnectorContext, form: Locator, step: string): Promise<Landing> {
  return submit(
    ctx,
    () =>
      form.evaluate((element) => (element as unknown as { submit(): void }).submit(), undefined, {
        timeout: ctx.timeouts.actionMs,
      }),
    step,
  );
}

/** A form by where it posts to: `path` under the instance's base, as a path (Gitea's own templates) or a full URL. */
export function formPostingTo(ctx: ConnectorContext, path: string): Locator {
  const target = `${urlsOf(ctx).base}${path}`;
  return ctx.page.locator(`form[action="${new URL(target).pathname}"], form[action="${target}"]`).first();
}

/** Gitea's flash messages (`.flash-message`, under the page header). */
export const FLASH_MESSAGE = '.flash-message';

/** Any page answered 429 (a proxy's limit; Gitea has none of its own) is RateLimited, with its Retry-After seconds. */
function throwIfRateLimited(_ctx: ConnectorContext, response: Response | null): void {
  if (response?.status() !== 429) return;
  const retryAfter = response.headers()['retry-after']?.trim();
  throw rateLimited(APP, retryAfter !== undefined && /^\d+$/.test(retryAfter) ? Number(retryAfter) : undefined);
}
