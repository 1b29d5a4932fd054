import type { Locator } from 'playwright-core';
import type { ConnectorContext } from './connector.ts';
import { stepUpRequired } from './errors.ts';
import type { AppPages } from './pages.ts';
import { fillSecret } from './secret-input.ts';

/**
 * Security pages often ask for the password again before showing or changing an authenticator
 * ("sudo mode", "Confirm access"). Apps do it two ways: on a page of its own (its URL tells), or in
 * place, as a dialog or a form over the page that was asked for, on the same URL. Both are a
 * visible password field where the page has none otherwise, which is what is detected here.
 */
export interface ReconfirmationPrompt {
  /** The password field of the prompt; default: any visible `input[type="password"]` on the page. */
  readonly field?: (ctx: ConnectorContext) => Locator;
  /** What submits it; default: Enter in the field (the form's default button). */
  readonly button?: (ctx: ConnectorContext) => Locator;
  /** A page of its own: the prompt is there only when this says so (e.g. its path is `/settings/sudo`). */
  readonly atUrl?: (url: URL) => boolean;
}

function passwordField(ctx: ConnectorContext, prompt: ReconfirmationPrompt): Locator {
  return prompt.field?.(ctx) ?? ctx.page.locator('input[type="password"]:visible').first();
}

/** Whether the page shows a password re-confirmation now, on a page of its own or in place. */
export async function reconfirmationShown(ctx: ConnectorContext, prompt: ReconfirmationPrompt = {}): Promise<boolean> {
  if (prompt.atUrl && !prompt.atUrl(new URL(ctx.page.url()))) return false;
  return passwordField(ctx, prompt).isVisible();
}

/**
 * Answer a password re-confirmation with the stored password when the page shows one; a page
 * without one is left as it is. Returns whether there was one. After the answer the browser is
 * on the page that was asked for: a prompt that is still there (the same page re-rendered, or the
 * dialog with its error) is StepUpRequired, never a second try with the same password.
 */
export async function passPasswordReconfirmation(
  ctx: ConnectorContext,
  pages: AppPages,
  prompt: ReconfirmationPrompt = {},
): Promise<boolean> {
  if (!(await reconfirmationShown(ctx, prompt))) return false;
  const { page, timeouts } = ctx;
  ctx.logger.info('app asked to confirm the password; confirming with the stored credentials');
  const field = passwordField(ctx, prompt);
  await fillSecret(ctx, field, ctx.stepUp.credentials.password, 'password confirmation');
  const pinned = await field.elementHandle({ timeout: timeouts.actionMs });
  const step = 'password confirmation';
  try {
    // The answer either loads a page (a prompt of its own) or changes this one: the field goes
    // away, or the app marks it invalid or shows one more alert. Whichever comes first says the
    // app has answered.
    const alertsBefore = await page.locator('[role="alert"]:visible').count();
    const navigated = page.waitForEvent('framenavigated', {
      predicate: (frame) => frame === page.mainFrame(),
      timeout: timeouts.navigationMs,
    });
    const gone = pinned ? pinned.waitForElementState('hidden', { timeout: timeouts.navigationMs }) : Promise.resolve();
    const alerted = page
      .locator('[role="alert"]:visible')
      .nth(alertsBefore)
      .or(page.locator('input[type="password"][aria-invalid="true"]:visible'))
      .first()
      .waitFor({ state: 'attached', timeout: timeouts.navigationMs });
    const answered = Promise.any([navigated, gone, alerted]);
    for (const wait of [navigated, gone, alerted]) wait.catch(() => undefined);
    if (prompt.button) await prompt.button(ctx).click({ timeout: timeouts.actionMs });
    else await field.press('Enter', { timeout: timeouts.actionMs });
    try {
      await answered;
    } catch (e: unknown) {
      throw e instanceof AggregateError ? (e.errors[0] as unknown) : e;
    }
    await page.waitForLoadState('load', { timeout: timeouts.navigationMs });
  } catch (e: unknown) {
    throw pages.asTimeout(e, step);
  } finally {
    await pinned?.dispose().catch(() => undefined);
  }
  if (await reconfirmationShown(ctx, prompt)) throw stepUpRequired(pages.app, 'password confirmation');
  return true;
}
