import { readFile } from 'node:fs/promises';
import jsQRModule from 'jsqr';
import { chromium, type Browser, type Page } from 'playwright-core';
import { pino } from 'pino';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoApp, type DemoApp } from './demo-app.ts';
import { QR_FORMATS, type QrFormat } from './hazards.ts';
import { codeAt, ManualClock } from './client/flows.ts';

// jsqr is CommonJS whose types declare an ES default export; at run time the function is the module itself.
const jsQR = jsQRModule as unknown as typeof jsQRModule.default;

const EMAIL = 'browser@example.com';
const PASSWORD = 'browser password';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

async function readQr(page: Page): Promise<string> {
  const png = PNG.sync.read(await page.getByRole('img', { name: 'QR code for authenticator app setup' }).screenshot());
  const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  if (!decoded) throw new Error('QR code in the page did not decode');
  return decoded.data;
}

async function signIn(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/login`);
  await page.getByLabel('Email address').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('demo app in Chromium', () => {
  let app: DemoApp;
  let browser: Browser;
  const clock = new ManualClock();

  beforeAll(async () => {
    app = await startDemoApp({
      accounts: [{ email: EMAIL, password: PASSWORD }],
      clock: clock.read,
      logger: pino({ level: 'silent' }),
    });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('enrolls by role and label: QR as img, svg and canvas, setup key, recovery codes download, then asks for a code at sign-in', async () => {
    const page = await browser.newPage();
    await signIn(page, app.url);
    await page.getByRole('link', { name: 'Security settings' }).first().click();
    expect(await page.locator('#mfa-status').textContent()).toBe('Two-factor authentication is off.');
    await page.getByRole('button', { name: 'Turn on authenticator app' }).click();
    await page.getByRole('heading', { name: 'Set up authenticator app' }).waitFor();

    await page.getByRole('link', { name: "Can't scan? Show the setup key" }).click();
    const seed = (await page.locator('#totp-setup-key').textContent()) ?? '';
    expect(seed).toMatch(/^[A-Z2-7]{32}$/);

    const uris: Partial<Record<QrFormat, string>> = {};
    for (const format of QR_FORMATS) {
      app.accounts.setHazards(EMAIL, { qrFormat: format });
      await page.reload();
      uris[format] = await readQr(page);
    }
    const expected = `otpauth://totp/Demo%20SaaS:browser%40example.com?issuer=Demo%20SaaS&secret=${seed}&algorithm=SHA1&digits=6&period=30`;
    expect(uris).toEqual({ img: expected, svg: expected, canvas: expected });

    await page.getByLabel('Authentication code').fill(codeAt(seed, clock.now));
    await page.getByRole('button', { name: 'Verify code' }).click();
    const codes = await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').allTextContents();
    expect(codes).toHaveLength(10);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download recovery codes' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('demo-saas-recovery-codes.txt');
    expect((await readFile(await download.path(), 'utf8')).trim().split('\n')).toEqual(codes);

    await page.getByRole('button', { name: 'I have saved these codes' }).click();
    expect(await page.getByRole('status').textContent()).toBe('Two-factor authentication is on.');
    expect(await page.locator('#mfa-status').getAttribute('data-mfa')).toBe('on');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, app.url);
    await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
    clock.advanceSeconds(30);
    await page.getByLabel('Authentication code').fill(codeAt(seed, clock.now));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.close();
  });
});
