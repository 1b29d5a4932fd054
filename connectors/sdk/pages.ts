import { errors, type Locator, type Response } from 'playwright-core';
import type { ConnectorContext } from './connector.ts';
import { timedOut } from './errors.ts';
import { expectVisible } from './page-contract.ts';

/**
 * Page mechanics every connector needs, bound to the app's display name so that errors name it:
 * `export const { open, submit, expectVisible, heading, alertText } = appPages(APP);` in a
 * connector's pages.ts. A page that does not answer in time is a Timeout; an element the page
 * contract promises and the page lacks is ConnectorOutdated (see docs/connectors.md).
 */
export interface AppPages {
  readonly app: string;
  /** Go to a URL and wait until the page it ends on (after redirects) has loaded. */
  open(ctx: ConnectorContext, url: string, step: string): Promise<Response | null>;
  /**
   * Click a form's submit button (or run `action`, e.g. Enter in a field) and wait for the page the
   * app answers with. Returns the POST's own response: its status tells a refusal re-rendered with
   * 200/401/422/429 from the 302/303 of a success. Waits for the main frame to commit a new document
   * too, so the old page is never read as the new one.
   */
  submit(ctx: ConnectorContext, button: Locator | (() => Promise<void>), step: string): Promise<Response>;
  /** Run something that loads a new document without a POST (a link, a script) and wait until it has loaded. */
  navigate(ctx: ConnectorContext, action: () => Promise<void>, step: string): Promise<void>;
  /** An element the page contract promises; missing means the app changed under the connector. */
  expectVisible(ctx: ConnectorContext, element: Locator, name: string): Promise<Locator>;
  /** The page's first level-1 heading, trimmed; empty when it has none. */
  heading(ctx: ConnectorContext): Promise<string>;
  /** The first `role="alert"` text (an error or notice the app shows), trimmed; empty when none. */
  alertText(ctx: ConnectorContext): Promise<string>;
  /** A Playwright timeout as this app's Timeout; anything else unchanged. */
  asTimeout(e: unknown, step: string): unknown;
}

export function appPages(app: string): AppPages {
  const asTimeout = (e: unknown, step: string): unknown =>
    e instanceof errors.TimeoutError ? timedOut(app, step, e) : e;

  async function open(ctx: ConnectorContext, url: string, step: string): Promise<Response | null> {
    try {
      return await ctx.page.goto(url, { waitUntil: 'load', timeout: ctx.timeouts.navigationMs });
    } catch (e: unknown) {
      throw asTimeout(e, step);
    }
  }

  async function submit(
    ctx: ConnectorContext,
    button: Locator | (() => Promise<void>),
    step: string,
  ): Promise<Response> {
    const { page, timeouts } = ctx;
    const action = typeof button === 'function' ? button : () => button.click({ timeout: timeouts.actionMs });
    try {
      const posted = page.waitForResponse((r) => r.request().method() === 'POST' && r.request().isNavigationRequest(), {
        timeout: timeouts.navigationMs,
      });
      const navigated = page.waitForEvent('framenavigated', {
        predicate: (frame) => frame === page.mainFrame(),
        timeout: timeouts.navigationMs,
      });
      // Any of the three may fail first; keep the others from becoming unhandled rejections.
      posted.catch(() => undefined);
      navigated.catch(() => undefined);
      await action();
      const response = await posted;
      await navigated;
      await page.waitForLoadState('load', { timeout: timeouts.navigationMs });
      return response;
    } catch (e: unknown) {
      throw asTimeout(e, step);
    }
  }

  async function navigate(ctx: ConnectorContext, action: () => Promise<void>, step: string): Promise<void> {
    const { page, timeouts } = ctx;
    try {
      const navigated = page.waitForEvent('framenavigated', {
        predicate: (frame) => frame === page.mainFrame(),
        timeout: timeouts.navigationMs,
      });
      navigated.catch(() => undefined);
      await action();
      await navigated;
      await page.waitForLoadState('load', { timeout: timeouts.navigationMs });
    } catch (e: unknown) {
      throw asTimeout(e, step);
    }
  }

  // One round trip to the page, where counting first and then reading took two.
  async function firstText(locator: Locator): Promise<string> {
    return (await locator.allInnerTexts())[0]?.trim() ?? '';
  }

  return {
    app,
    open,
    submit,
    navigate,
    expectVisible: (ctx, element, name) => expectVisible(ctx, element, name, app),
    heading: (ctx) => firstText(ctx.page.getByRole('heading', { level: 1 })),
    alertText: (ctx) => firstText(ctx.page.getByRole('alert')),
    asTimeout,
  };
}
