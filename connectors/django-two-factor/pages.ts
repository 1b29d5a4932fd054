import type { Locator } from 'playwright-core';
import type { ConnectorContext } from '../sdk/connector.ts';
import { sitePages, type Landing as SiteLanding } from '../sdk/site-pages.ts';
import { APP } from './names.ts';
import { pageAt, siteUrls, type PageName, type SiteUrls } from './site-urls.ts';

/**
 * Page mechanics shared by the connector's steps (connectors/sdk/site-pages.ts). The package's pages
 * are server-rendered Django forms that every site restyles (it asks for a two_factor/_base.html of the
 * site's own), so pages are told apart by URL path and fields by their form names, never by text or
 * layout. Sign-in and setup are django-formtools wizards: one URL whose step is in the management
 * form's hidden `<prefix>-current_step` field (`auth`, `token`, `backup`; `welcome`, `method`,
 * `generator`), and whose fields are named `<step>-<field>` (`auth-password`, `generator-token`).
 */
export interface Landing extends SiteLanding<PageName> {
  /** The wizard's current step on a wizard page; undefined elsewhere. */
  readonly step: string | undefined;
}

const PAGES = sitePages<PageName>({
  app: APP,
  owner: "django-two-factor-auth's",
  pageAt: (loginUrl, url) => pageAt(siteUrls(loginUrl), url),
});

export const { currentPage, formField, expectVisible } = PAGES;

export function urlsOf(ctx: ConnectorContext): SiteUrls {
  return siteUrls(ctx.loginUrl);
}

export async function open(ctx: ConnectorContext, url: string, step: string): Promise<Landing> {
  return withWizardStep(ctx, await PAGES.open(ctx, url, step));
}

export async function submitField(ctx: ConnectorContext, field: Locator, step: string): Promise<Landing> {
  return withWizardStep(ctx, await PAGES.submitField(ctx, field, step));
}

/** The wizard's form: the one that holds its management form. */
export function wizardForm(ctx: ConnectorContext): Locator {
  return ctx.page.locator('form:has(input[type="hidden"][name$="-current_step"])').first();
}

/**
 * Submit a form as Enter does, without a submitter: the wizard's templates put a hidden submit button
 * first for that, so no "Back" (`wizard_goto_step`) or other button's value goes with it.
 */
export async function submitForm(ctx: ConnectorContext, form: Locator, step: string): Promise<Landing> {
  const landed = await PAGES.submit(
    ctx,
    () =>
      form.evaluate((element) => (element as unknown as { requestSubmit(): void }).requestSubmit(), undefined, {
        timeout: ctx.timeouts.actionMs,
      }),
    step,
  );
  return withWizardStep(ctx, landed);
}

/** Click a button that loads a page by POST (the "Use Backup Token" button). */
export async function clickSubmit(ctx: ConnectorContext, button: Locator, step: string): Promise<Landing> {
  return withWizardStep(ctx, await PAGES.submit(ctx, () => button.click({ timeout: ctx.timeouts.actionMs }), step));
}

export function expectPage(landing: Landing, page: PageName, name: string): void {
  PAGES.expectPage(landing, page, name);
}

export function describe(landing: Landing): string {
  return `${PAGES.describe(landing)}${landing.step ? ` at its ${landing.step} step` : ''}`;
}

/**
 * django-otp's throttle: after a refused code a device refuses the next ones for a doubling delay and
 * the form says "Verification temporarily disabled because of too many failed attempts". English only.
 */
export async function isThrottled(ctx: ConnectorContext): Promise<boolean> {
  const text = await ctx.page
    .locator('body')
    .innerText({ timeout: ctx.timeouts.actionMs })
    .catch(() => '');
  return /temporarily disabled because of too many failed attempts/i.test(text);
}

async function withWizardStep(ctx: ConnectorContext, landed: SiteLanding<PageName>): Promise<Landing> {
  const steps = await ctx.page
    .locator('form input[type="hidden"][name$="-current_step"]')
    .evaluateAll((inputs) => inputs.map((input) => (input as unknown as { value: string }).value));
  return { ...landed, step: steps[0] };
}
