import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logging/logger.ts';
import { freeLoopbackPort } from '../../test/envtest/ports.ts';
import { BrowserSession, launchBrowser } from './browser.ts';
import { UNREACHABLE_HEADER } from './egress-proxy.ts';
import { decodeQrPng, QrNotFoundError, readQrFromElement } from './qr.ts';

const URI = 'otpauth://totp/Demo%20SaaS:a%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Demo%20SaaS';
const logger = createLogger('browser-test', { level: 'silent' });

async function qrPage(): Promise<string> {
  const png = await QRCode.toDataURL(URI, { margin: 0, width: 180 });
  const svg = await QRCode.toString(URI, { type: 'svg', margin: 0, width: 180 });
  const modules = QRCode.create(URI, {}).modules;
  const cells = JSON.stringify(Array.from(modules.data));
  return `<!doctype html><body style="background:#fff">
    <img id="img" src="${png}" alt="qr">
    <div id="svg" style="width:180px;height:180px">${svg}</div>
    <div style="height:3000px"></div>
    <canvas id="canvas" width="${modules.size * 6}" height="${modules.size * 6}"></canvas>
    <script>
      const cells = ${cells}; const size = ${modules.size}; const ctx = document.getElementById('canvas').getContext('2d');
      ctx.fillStyle = '#000';
      cells.forEach((on, i) => { if (on) ctx.fillRect((i % size) * 6, Math.floor(i / size) * 6, 6, 6); });
    </script></body>`;
}

describe('browser session and QR reading in Chromium', () => {
  let server: Server;
  let origin: string;
  let browser: Browser;

  beforeAll(async () => {
    const html = await qrPage();
    server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  // The canvas sits below the fold: the element screenshot scrolls to it on its own.
  it.each(['img', 'svg', 'canvas'])('decodes an otpauth URI drawn as <%s> without a quiet zone', async (id) => {
    const session = await BrowserSession.open(browser, { allowedHosts: ['127.0.0.1'], logger });
    await session.page.goto(origin);
    const uri = await readQrFromElement(session.page.locator(`#${id}`), 5_000);
    expect(uri.reveal()).toBe(URI);
    await session.close();
  });

  it('masks secret elements in failure screenshots: the QR code is readable without the mask, not with it', async () => {
    const session = await BrowserSession.open(browser, {
      allowedHosts: ['127.0.0.1'],
      logger,
      secretElements: ['#img', '#svg', '#canvas'],
    });
    await session.page.goto(origin);
    // One QR code on the page, so the unmasked screenshot is the control.
    await session.page.locator('#svg, #canvas').evaluateAll((elements) => elements.forEach((e) => e.remove()));
    expect(decodeQrPng(await session.page.screenshot()).reveal()).toBe(URI);
    const masked = await session.page.screenshot({ mask: [session.page.locator('#img')] });
    expect(() => decodeQrPng(masked)).toThrow(QrNotFoundError);
    await session.close();
  });

  it('blocks requests to the cloud metadata address from the page', async () => {
    const session = await BrowserSession.open(browser, { allowedHosts: ['127.0.0.1'], logger });
    await session.page.goto(origin);
    const failed = session.page.waitForEvent('requestfailed');
    await session.page.evaluate(() => {
      void fetch('http://169.254.169.254/latest/meta-data/').catch(() => undefined);
    });
    expect((await failed).failure()?.errorText).toContain('ERR_BLOCKED_BY_CLIENT');
    await session.close();
  });

  it('refuses top-level navigation to hosts outside the allow-list', async () => {
    const session = await BrowserSession.open(browser, { allowedHosts: ['localhost'], logger });
    await expect(session.page.goto(origin)).rejects.toThrow(/ERR_BLOCKED_BY_CLIENT/);
    await session.close();
  });

  it('explains a page that could not be loaded as AppUnreachable, until a page of the app loads again', async () => {
    const session = await BrowserSession.open(browser, { allowedHosts: ['127.0.0.1'], logger });
    const dead = `http://127.0.0.1:${await freeLoopbackPort()}`;
    const failed = await session.page.goto(`${dead}/login`).catch((e: unknown) => e);

    expect(session.explainFailure(failed)).toMatchObject({
      reason: 'AppUnreachable',
      retryable: true,
      message: expect.stringContaining(`${new URL(dead).host} (ECONNREFUSED)`),
    });
    // Chromium still shows its error page for the failed load; let it finish before loading the app's page.
    await session.page.waitForURL(/^chrome-error:/);
    await session.page.goto(origin);
    const later = new Error('a later Playwright error');
    expect(session.explainFailure(later), 'a page loaded since: the failure is its own').toBe(later);
    await session.close();
  });

  it("does not take a page's own unreachable header for the proxy's: no page text reaches the reason", async () => {
    const forged = createServer((_req, res) =>
      res.writeHead(502, { [UNREACHABLE_HEADER]: 'hunter2 typed password' }).end(),
    );
    await new Promise<void>((resolve) => forged.listen(0, '127.0.0.1', resolve));
    const session = await BrowserSession.open(browser, { allowedHosts: ['127.0.0.1'], logger });
    try {
      await session.page.goto(`http://127.0.0.1:${(forged.address() as AddressInfo).port}/`).catch(() => undefined);
      const later = new Error('a Playwright error on that page');
      expect(session.explainFailure(later)).toBe(later);
    } finally {
      await session.close();
      await new Promise((resolve) => forged.close(resolve));
    }
  });

  it('starts each session without the cookies of the one before', async () => {
    const first = await BrowserSession.open(browser, { allowedHosts: ['127.0.0.1'], logger });
    await first.context.addCookies([{ name: 'sid', value: 'x', url: origin }]);
    await first.close();
    const second = await BrowserSession.open(browser, { allowedHosts: ['127.0.0.1'], logger });
    expect(await second.context.cookies()).toEqual([]);
    await second.close();
  });
});
