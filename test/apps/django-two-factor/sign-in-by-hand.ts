import type { Browser, Page } from 'playwright-core';

export interface SecondStep {
  /** An authenticator code for the login wizard's token step. */
  readonly code?: string;
  /** A backup token, for its backup step ("Use Backup Token"). */
  readonly backupToken?: string;
}

/**
 * What a person does, in a fresh browser context: the login wizard's auth step, then its token step
 * (or the backup step). Returns the username the site's home page shows when signed in, or undefined
 * when the site refused. `loginUrl` is the sign-in page as this host reaches it.
 */
export async function signInByHand(
  browser: Browser,
  loginUrl: string,
  username: string,
  password: string,
  second: SecondStep = {},
): Promise<string | undefined> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(loginUrl);
    await page.locator('input[name="auth-username"]').fill(username);
    await submitField(page, 'auth-password', password);
    if (second.backupToken !== undefined) {
      await Promise.all([
        page.waitForEvent('framenavigated'),
        page.locator('button[name="wizard_goto_step"][value="backup"]').click(),
      ]);
      await page.waitForLoadState('load');
      await submitField(page, 'backup-otp_token', second.backupToken);
    } else if (second.code !== undefined) {
      await submitField(page, 'token-otp_token', second.code);
    }
    // Signed out, the home page sends the browser to the sign-in page instead.
    await page.goto(new URL('/', loginUrl).href);
    const home = page.locator('h1[data-signed-in]');
    return (await home.count()) === 1 ? ((await home.getAttribute('data-signed-in')) ?? undefined) : undefined;
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
