import type { Browser, Page } from 'playwright-core';

export interface SecondStep {
  /** An authenticator code for user/two_factor. */
  readonly code?: string;
  /** The single-use recovery key, for user/two_factor/scratch. */
  readonly recoveryKey?: string;
}

/**
 * What a person does, in a fresh browser context: the sign-in form, then the code page (or the
 * recovery key page). Returns the username the profile settings show when signed in, or undefined
 * when Gitea refused. `url` is the instance as this host reaches it.
 */
export async function signInByHand(
  browser: Browser,
  url: string,
  username: string,
  password: string,
  second: SecondStep = {},
): Promise<string | undefined> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(`${url}/user/login`);
    await page.locator('input[name="user_name"]').fill(username);
    await submitField(page, 'password', password);
    if (second.recoveryKey !== undefined) {
      await page.goto(`${url}/user/two_factor/scratch`);
      await submitField(page, 'token', second.recoveryKey);
    } else if (second.code !== undefined) {
      await submitField(page, 'passcode', second.code);
    }
    // Signed out, Gitea sends the browser to the sign-in page instead.
    await page.goto(`${url}/user/settings`);
    if (new URL(page.url()).pathname !== '/user/settings') return undefined;
    return await page.locator('input#username').inputValue();
  } finally {
    await context.close();
  }
}

async function submitField(page: Page, name: string, value: string): Promise<void> {
  const field = page.locator(`input[name="${name}"]`);
  await field.fill(value);
  await Promise.all([page.waitForEvent('framenavigated'), field.press('Enter')]);
  await page.waitForLoadState('load');
}
