import { errors, type Locator, type Response } from 'playwright-core';
import type { ConnectorContext } from '../sdk/connector.ts';
import { stepUpRequired, timedOut } from '../sdk/errors.ts';
import { expectVisible as expectContractElement } from '../sdk/page-contract.ts';
import { fillSecret } from '../sdk/secret-input.ts';

/** Page mechanics of the demo app shared by its connector's steps (see connectors/demo/README.md). */

export const APP = 'Demo SaaS';

export function appUrl(ctx: ConnectorContext, path: string): string {
  return new URL(path, ctx.loginUrl).href;
}

export function pathOf(ctx: ConnectorContext): string {
  return new URL(ctx.page.url()).pathname;
}

/** Go to a page and wait until it has loaded; a page that never loads is a Timeout. */
export async function open(ctx: ConnectorContext, url: string, step: string): Promise<void> {
  try {
    await ctx.page.goto(url, { waitUntil: 'load', timeout: ctx.timeouts.navigationMs });
  } catch (e: unknown) {
    throw asTimeout(e, step);
  }
}

/**
 * Click a form's submit button and wait for the page the app answers with. Returns the POST's own
 * response: its status tells refusals (401/409/422/429) from the 303 of a success.
 */
export async function submit(ctx: ConnectorContext, button: Locator, step: string): Promise<Response> {
  const { page, timeouts } = ctx;
  try {
    // Together, so that a failed click does not leave the response wait rejecting unobserved.
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.request().isNavigationRequest(),
        { timeout: timeouts.navigationMs }),
      button.click({ timeout: timeouts.actionMs }),
    ]);
    await page.waitForLoadState('load', { timeout: timeouts.navigationMs });
    return response;
  } catch (e: unknown) {
    throw asTimeout(e, step);
  }
}

/** An element the page contract promises; missing means the app changed under the connector. */
export function expectVisible(ctx: ConnectorContext, element: Locator, name: string): Promise<Locator> {
  return expectContractElement(ctx, element, name, APP);
}

export async function heading(ctx: ConnectorContext): Promise<string> {
  const h1 = ctx.page.getByRole('heading', { level: 1 });
  return (await h1.count()) > 0 ? (await h1.first().innerText()).trim() : '';
}

export async function alertText(ctx: ConnectorContext): Promise<string> {
  const alert = ctx.page.getByRole('alert');
  return (await alert.count()) > 0 ? (await alert.first().innerText()).trim() : '';
}

/**
 * Security pages may first ask for the password again ("sudo mode"); answer with the stored
 * password and land on the page that was asked for.
 */
export async function passStepUp(ctx: ConnectorContext): Promise<void> {
  if (pathOf(ctx) !== '/settings/sudo') return;
  ctx.logger.info('app asked to confirm the password; confirming with the stored credentials');
  const password = await expectVisible(ctx, ctx.page.getByLabel('Password', { exact: true }), 'password confirmation field');
  await fillSecret(ctx, password, ctx.stepUp.credentials.password, 'password confirmation');
  const response = await submit(ctx, ctx.page.getByRole('button', { name: 'Confirm' }), 'password confirmation');
  if (response.status() === 401 || pathOf(ctx) === '/settings/sudo') throw stepUpRequired(APP, 'password confirmation');
}

/** Open a security page, passing a password confirmation on the way when the app asks for one. */
export async function openSecurityPage(ctx: ConnectorContext, path: string, step: string): Promise<void> {
  await open(ctx, appUrl(ctx, path), step);
  await passStepUp(ctx);
}

function asTimeout(e: unknown, step: string): unknown {
  return e instanceof errors.TimeoutError ? timedOut(APP, step, e) : e;
}
