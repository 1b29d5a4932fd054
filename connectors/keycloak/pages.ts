import { errors, type Locator } from 'playwright-core';
import type { ConnectorContext } from '../sdk/connector.ts';
import { connectorOutdated, timedOut } from '../sdk/errors.ts';
import { appPages } from '../sdk/pages.ts';
import { APP } from './names.ts';
import { themeSelectors } from './theme.ts';

const KEYCLOAK_PAGES = appPages(APP);

/**
 * Page mechanics shared by the Keycloak connector's steps. Keycloak has two kinds of page: the
 * server-rendered login theme (sign-in, second factor, and the "required actions" that add or
 * delete credentials) and the account console, a single-page app.
 */

/** The login theme names each page after its template on `<body data-page-id="login-...">`. */
export const LOGIN_PAGES = {
  password: 'login-login',
  otp: 'login-login-otp',
  recoveryCode: 'login-login-recovery-authn-code-input',
  selectAuthenticator: 'login-select-authenticator',
  configureTotp: 'login-login-config-totp',
  recoveryCodesSetup: 'login-login-recovery-authn-code-config',
  deleteCredential: 'login-delete-credential',
} as const;

export type KeycloakPage = { kind: 'account' } | { kind: 'login'; id: string; title: string };

const LOGIN_THEME_MARKER = 'body[data-page-id^="login-"]';
/** Every account console page renders its title with this test id once the app has signed in. */
const ACCOUNT_CONSOLE_MARKER = '[data-testid="page-heading"]';

/** Wait until a Keycloak page has rendered and tell which one it is. */
export async function settledPage(ctx: ConnectorContext, step: string): Promise<KeycloakPage> {
  const { page } = ctx;
  try {
    await page
      .locator(`${LOGIN_THEME_MARKER}, ${ACCOUNT_CONSOLE_MARKER}`)
      .first()
      .waitFor({ state: 'attached', timeout: ctx.timeouts.navigationMs });
  } catch (e: unknown) {
    if (!(e instanceof errors.TimeoutError)) throw e;
    // A loaded page that is neither kind is not Keycloak as the connector knows it; the account
    // console renders only after its scripts sign in, which is slow, not changed, on a busy server.
    const loaded = await page.evaluate('document.readyState === "complete"').catch(() => false);
    const accountConsole = new URL(page.url()).pathname.includes('/account');
    if (loaded && !accountConsole)
      throw connectorOutdated(APP, `a Keycloak login or account console page (${step})`, e);
    throw timedOut(APP, step, e);
  }
  const id = await page.locator('body').getAttribute('data-page-id');
  if (id?.startsWith('login-')) return { kind: 'login', id, title: await pageTitle(ctx) };
  return { kind: 'account' };
}

/** Open a URL and wait for the page it ends on (sign-in redirects included). */
export async function openPage(ctx: ConnectorContext, url: string, step: string): Promise<KeycloakPage> {
  await KEYCLOAK_PAGES.open(ctx, url, step);
  return settledPage(ctx, step);
}

/**
 * Do something that loads a new document (a form submit, a link, an account console button that
 * starts a required action) and wait for the page it ends on. Waiting for the main frame to
 * commit a new document keeps the old page's markers from being mistaken for the new page's.
 */
export async function navigateBy(
  ctx: ConnectorContext,
  action: () => Promise<void>,
  step: string,
): Promise<KeycloakPage> {
  await KEYCLOAK_PAGES.navigate(ctx, action, step);
  return settledPage(ctx, step);
}

export async function clickAndNavigate(ctx: ConnectorContext, element: Locator, step: string): Promise<KeycloakPage> {
  return navigateBy(ctx, () => element.click({ timeout: ctx.timeouts.actionMs }), step);
}

/** An element the page contract promises; missing means Keycloak changed under the connector. */
export const { expectVisible } = KEYCLOAK_PAGES;

export function expectLoginPage(page: KeycloakPage, id: string, name: string): void {
  if (page.kind !== 'login' || page.id !== id) throw connectorOutdated(APP, `${name} (found ${describePage(page)})`);
}

export function describePage(page: KeycloakPage): string {
  return page.kind === 'account' ? 'the account console' : `the "${page.title}" page (${page.id})`;
}

/** Messages the login theme shows: field errors and the page alert ("Invalid username or password."). */
export async function feedbackText(ctx: ConnectorContext): Promise<string> {
  const texts = await ctx.page.locator(themeSelectors().feedback).allInnerTexts();
  return texts
    .map((text) => text.trim())
    .filter(Boolean)
    .join(' ');
}

async function pageTitle(ctx: ConnectorContext): Promise<string> {
  const title = ctx.page.locator(themeSelectors().pageTitle);
  return (await title.count()) > 0 ? (await title.innerText()).trim().replace(/\s+/g, ' ') : '';
}
