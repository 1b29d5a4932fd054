import type { Locator, Response } from 'playwright-core';
import type { ConnectorContext } from './connector.ts';
import { connectorOutdated } from './errors.ts';
import { appPages } from './pages.ts';

/**
 * Page mechanics for apps of server-rendered forms (django-allauth, Gitea, django-two-factor-auth):
 * pages are told apart by URL path under the site's base (which the loginUrl gives), fields by their
 * form names, never by text or layout. Every step ends on a `Landing`: which known page the browser
 * is on (undefined for the site's own pages) and the status of the response that put it there.
 */
export interface Landing<Page extends string> {
  readonly page: Page | undefined;
  readonly status: number;
}

export interface SitePagesOptions<Page extends string> {
  /** The app's name in messages. */
  readonly app: string;
  /** How `describe` names a known page: `allauth's login page`. */
  readonly owner: string;
  /** Which known page a URL is, for the site the context's loginUrl names; undefined for any other. */
  readonly pageAt: (loginUrl: URL, url: string) => Page | undefined;
  /** Runs on every answer before it becomes a landing: throw there for what any page may say (a 429). */
  readonly check?: (ctx: ConnectorContext, response: Response | null) => void;
}

export interface SitePages<Page extends string> {
  readonly app: string;
  currentPage(ctx: ConnectorContext): Page | undefined;
  /** Go to a page and wait until the page it ends on (after redirects) has loaded. */
  open(ctx: ConnectorContext, url: string, step: string): Promise<Landing<Page>>;
  /** Submit a form and wait for the page the site answers with; `status` is the POST's own response. */
  submit(ctx: ConnectorContext, action: () => Promise<void>, step: string): Promise<Landing<Page>>;
  /** Submit the form a filled field belongs to, as Enter in that field does (the form's default button). */
  submitField(ctx: ConnectorContext, field: Locator, step: string): Promise<Landing<Page>>;
  /** A visible form field by its name, as the app's forms define it (restyled templates keep the names). */
  formField(ctx: ConnectorContext, name: string): Locator;
  /** An element the page contract promises; missing means the app changed under the connector. */
  expectVisible(ctx: ConnectorContext, element: Locator, name: string): Promise<Locator>;
  /** ConnectorOutdated, naming what was expected and what was found, unless the landing is on `page`. */
  expectPage(landing: Landing<Page>, page: Page, name: string): void;
  describe(landing: Landing<Page>): string;
}

export function sitePages<Page extends string>(options: SitePagesOptions<Page>): SitePages<Page> {
  const pages = appPages(options.app);
  const currentPage = (ctx: ConnectorContext) => options.pageAt(ctx.loginUrl, ctx.page.url());
  const landing = (ctx: ConnectorContext, response: Response | null): Landing<Page> => {
    options.check?.(ctx, response);
    return { page: currentPage(ctx), status: response?.status() ?? 0 };
  };
  const describe = (landed: Landing<Page>) =>
    landed.page ? `${options.owner} ${landed.page} page` : `another page (HTTP ${landed.status})`;
  const submit = async (ctx: ConnectorContext, action: () => Promise<void>, step: string) =>
    landing(ctx, await pages.submit(ctx, action, step));
  return {
    app: options.app,
    currentPage,
    open: async (ctx, url, step) => landing(ctx, await pages.open(ctx, url, step)),
    submit,
    submitField: (ctx, field, step) =>
      submit(ctx, () => field.press('Enter', { timeout: ctx.timeouts.actionMs }), step),
    formField: (ctx, name) => ctx.page.locator(`form input[name="${name}"]:not([type="hidden"])`).first(),
    expectVisible: pages.expectVisible,
    expectPage: (landed, page, name) => {
      if (landed.page !== page) throw connectorOutdated(options.app, `${name} (found ${describe(landed)})`);
    },
    describe,
  };
}
