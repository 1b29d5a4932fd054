import type { Page } from 'playwright-core';
import { Secret, TOTP } from 'otpauth';

/**
 * The floor of bench/enroll.ts and bench/enroll-against.ts: the demo enrollment with nothing but
 * Playwright calls. Sign in, turn on, read the key, confirm, read the codes, acknowledge.
 */
export async function bareEnrollment(page: Page, baseUrl: string, email: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await page.goto(`${baseUrl}/settings/security`);
  await page.getByRole('button', { name: 'Turn on authenticator app' }).click();
  await page.getByRole('link', { name: "Can't scan? Show the setup key" }).click();
  const key = (await page.locator('#totp-setup-key').innerText()).replace(/\s+/g, '').toUpperCase();
  await page.getByLabel('Authentication code').fill(TOTP.generate({ secret: Secret.fromBase32(key) }));
  await page.getByRole('button', { name: 'Verify code' }).click();
  const codes = await page.getByRole('list', { name: 'Recovery codes' }).locator('li code').allInnerTexts();
  if (codes.length !== 10) throw new Error('bare flow did not reach the recovery codes');
  await page.getByRole('button', { name: 'I have saved these codes' }).click();
}
