import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../core/logging/logger.ts';
import { freeLoopbackPort } from '../../test/envtest/ports.ts';
import { BrowserSession, launchBrowser } from './browser.ts';
import { UNREACHABLE_HEADER } from './egress-proxy.ts';
import { readEnrollmentSecret } from './enrollment-secret.ts';
import { decodeQrPng, QrNotFoundError, readQrFromElement } from './qr.ts';

const URI = 'otpauth://totp/Demo%20SaaS:a%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Demo%20SaaS';
const logger = createLogger('browser-test', { level: 'silent' });

const OTHER_URI = 'otpauth://totp/Other:b%40example.com?secret=KRSXG5CTMVRXEZLU&issuer=Other';

/** A PNG whose header claims 100,000 × 100,000 pixels: decoding it would ask for 40 GB. */
function forgedHugePng(): string {
  const ihdr = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(ihdr);
  ihdr.writeUInt32BE(13, 8);
  ihdr.write('IHDR', 12, 'latin1');
  ihdr.writeUInt32BE(100_000, 16);
  ihdr.writeUInt32BE(100_000, 20);
  return `data:image/png;base64,${ihdr.toString('base64')}`;
}

async function qrPage(): Promise<string> {
  const png = await QRCode.toDataURL(URI, { margin: 0, width: 180 });
  const other = await QRCode.toDataURL(OTHER_URI, { margin: 0, width: 180 });
  const blank = await QRCode.toDataURL('x', { color: { dark: '#ffffffff', light: '#ffffffff' } });
  const svg = await QRCode.toString(URI, { type: 'svg', margin: 0, width: 180 });
  const modules = QRCode.create(URI, {}).modules;
  const cells = JSON.stringify(Array.from(modules.data));
  return `<!doctype html><body style="background:#fff">
    <img id="img" src="${png}" alt="qr">
    <div id="svg" style="width:180px;height:180px">${svg}</div>
    <div style="height:3000px"></div>
    <canvas id="canvas" width="${modules.size * 6}" height="${modules.size * 6}"></canvas>
    <img class="extra" id="blank" src="${blank}" alt="qr"><code class="extra" id="key">JBSW Y3DP EHPK 3PXP</code>
    <img class="extra" id="drawn-over" src="${blank}" style="content:url(${png})" alt="qr">
    <img class="extra" id="srcset" src="${other}" srcset="${png} 1x" alt="qr">
    <img class="extra" id="forged" src="${forgedHugePng()}" style="content:url(${png});width:180px;height:180px" alt="qr">
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

  it('reads a PNG inlined in an <img> src from its bytes, without a screenshot', async () => {
    const session = await BrowserSession.open(browser, { allowedHosts: ['127.0.0.1'], logger });
    await session.page.goto(origin);
    const img = session.page.locator('#img');
    const screenshot = vi.spyOn(img, 'screenshot');
    expect((await readQrFromElement(img, 5_000)).reveal()).toBe(URI);
    expect(screenshot).not.toHaveBeenCalled();
    await session.close();
  });

  // A page that draws something else than its src gets the screenshot: what it shows is what a person scans.
  it.each([
    ['drawn-over', 'a src without a code, the code drawn over it by CSS'],
    ['srcset', 'a srcset choosing another picture than the src'],
    ['forged', 'a src whose PNG header claims 100,000 px a side'],
  ])('reads <img id=%s> (%s) from the screenshot', async (id) => {
    const session = await BrowserSession.open(browser, { allowedHosts: ['127.0.0.1'], logger });
    await session.page.goto(origin);
    const img = session.page.locator(`#${id}`);
    const screenshot = vi.spyOn(img, 'screenshot');
    expect((await readQrFromElement(img, 5_000)).reveal()).toBe(URI);
    expect(screenshot).toHaveBeenCalledTimes(1);
    await session.close();
  });

  it('reads the key and the QR code side by side, and takes an unreadable QR code only beside a key', async () => {
    const session = await BrowserSession.open(browser, { allowedHosts: ['127.0.0.1'], logger });
    await session.page.goto(origin);
    const key = session.page.locator('#key');
    const read = (qr: string, textKey?: typeof key) =>
      readEnrollmentSecret(
        'Demo SaaS',
        { qr: session.page.locator(qr), ...(textKey ? { textKey } : {}), timeoutMs: 5_000 },
        logger,
      );
    const both = await read('#img', key);
    expect([both.textKey?.reveal(), both.otpauthUri?.reveal()]).toEqual(['JBSW Y3DP EHPK 3PXP', URI]);
    const warn = vi.spyOn(logger, 'warn');
    const keyOnly = await read('#blank', key);
    expect(keyOnly.otpauthUri).toBeUndefined();
    expect(warn).toHaveBeenCalledWith('QR code unreadable; using the setup key alone');
    await expect(read('#blank')).rejects.toMatchObject({ reason: 'ConnectorOutdated' });
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
    await session.page.locator('#svg, #canvas, .extra').evaluateAll((elements) => elements.forEach((e) => e.remove()));
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
