import type { ConnectorContext } from '../sdk/connector.ts';
import { appPages } from '../sdk/pages.ts';
import { passPasswordReconfirmation, type ReconfirmationPrompt } from '../sdk/reconfirmation.ts';

/** Page mechanics of the demo app shared by its connector's steps (see test/apps/demo/README.md). */

export const APP = 'Demo SaaS';
export const DEMO_PAGES = appPages(APP);

export function appUrl(ctx: ConnectorContext, path: string): string {
  return new URL(path, ctx.loginUrl).href;
}

export function pathOf(ctx: ConnectorContext): string {
  return new URL(ctx.page.url()).pathname;
}

export const { open, submit, navigate, expectVisible, heading, alertText } = DEMO_PAGES;

/** The demo asks for the password again on a page of its own, `/settings/sudo`, before security pages. */
const SUDO: ReconfirmationPrompt = {
  atUrl: (url) => url.pathname === '/settings/sudo',
  field: (ctx) => ctx.page.getByLabel('Password', { exact: true }),
  button: (ctx) => ctx.page.getByRole('button', { name: 'Confirm' }),
};

/** Security pages may first ask for the password again ("sudo mode"); answer with the stored password. */
export async function passStepUp(ctx: ConnectorContext): Promise<void> {
  await passPasswordReconfirmation(ctx, DEMO_PAGES, SUDO);
}

/** Open a security page, passing a password confirmation on the way when the app asks for one. */
export async function openSecurityPage(ctx: ConnectorContext, path: string, step: string): Promise<void> {
  await open(ctx, appUrl(ctx, path), step);
  await passStepUp(ctx);
}
