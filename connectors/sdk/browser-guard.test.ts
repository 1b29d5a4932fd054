import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logging/logger.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { html, redirect, startHostileHosts, type HostileHosts } from '../../test/support/hostile-hosts.ts';
import { BrowserSession, launchBrowser } from './browser.ts';
import { DEFAULT_TIMEOUTS, type ConnectorContext } from './connector.ts';
import { isConnectorError, sinkUnavailable } from './errors.ts';
import { REFUSED_HEADER } from './egress-proxy.ts';
import { fillSecret } from './secret-input.ts';

/**
 * The browser's host guard against hostile pages, in real Chromium on loopback: the app is on
 * 127.0.0.1 (allowed), the foreign host on 127.0.0.2 (a loopback host the allow-list does not
 * name). 169.254.169.254 is never contacted: the guard refuses it before any connection.
 */
const PASSWORD = 'correct-horse-battery-staple-4711';
const logger = createLogger('browser-guard-test', { level: 'silent' });

describe('browser host guard in Chromium', () => {
  let hosts: HostileHosts;
  let browser: Browser;
  let session: BrowserSession;

  beforeAll(async () => {
    [hosts, browser] = await Promise.all([startHostileHosts(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await hosts?.close();
  });
  beforeEach(async () => {
    hosts.app.reset();
    hosts.foreign.reset();
    session = await BrowserSession.open(browser, { allowedHosts: ['127.0.0.1'], logger });
  });
  afterEach(async () => {
    await session.close();
    // Nothing any test did may have reached the foreign host.
    expect(hosts.foreign.connections).toBe(0);
    expect(hosts.foreign.requests).toEqual([]);
  });

  function ctx(): ConnectorContext {
    return {
      page: session.page,
      loginUrl: new URL(hosts.app.origin),
      logger,
      timeouts: { ...DEFAULT_TIMEOUTS, actionMs: 3_000 },
      stepUp: { credentials: { username: 'u', password: new SecretValue(PASSWORD) } },
    };
  }

  it('refuses a redirect hop from an allowed page to another host', async () => {
    hosts.app.handle('/login', redirect(`${hosts.foreign.origin}/phish`));

    const response = await session.page.goto(`${hosts.app.origin}/login`);

    expect(response?.headers()[REFUSED_HEADER]).toBe('destination');
    expect(session.refusedNavigation).toEqual({ host: '127.0.0.2', reason: 'NotAllowed' });
  });

  it('refuses a 307 that would re-send a posted password to another host', async () => {
    hosts.app.handle(
      '/form',
      html(
        `<form method="post" action="/submit"><input id="password" name="password" type="password"><button>Sign in</button></form>`,
      ),
    );
    hosts.app.handle('/submit', redirect(`${hosts.foreign.origin}/collect`, 307));
    await session.page.goto(`${hosts.app.origin}/form`);
    await fillSecret(ctx(), session.page.locator('#password'), new SecretValue(PASSWORD), 'password');

    const refused = session.page.waitForResponse((r) => r.headers()[REFUSED_HEADER] !== undefined, { timeout: 5_000 });
    await session.page.locator('button').click();
    await refused;

    expect(hosts.app.requests.find((r) => r.path === '/submit')?.body).toContain(PASSWORD);
    expect(session.refusedNavigation?.host).toBe('127.0.0.2');
  });

  it('has Chromium itself ask for nothing while a sign-in form is filled and posted (no autofill server queries)', async () => {
    hosts.app.handle(
      '/form',
      html(`<form method="post" action="/submit"><input id="email" name="email" type="email" autocomplete="username">
      <input id="password" name="password" type="password" autocomplete="current-password"><button>Sign in</button></form>`),
    );
    hosts.app.handle(
      '/submit',
      html(
        '<h1>Signed in</h1><form method="post" action="/profile"><input name="name" autocomplete="name"><input name="tel" autocomplete="tel"><button>Save</button></form>',
      ),
    );
    hosts.app.handle('/profile', html('<h1>Saved</h1>'));
    await session.page.goto(`${hosts.app.origin}/form`);
    await session.page.locator('#email').fill('brand@demo.example');
    await fillSecret(ctx(), session.page.locator('#password'), new SecretValue(PASSWORD), 'password');
    await session.page.locator('button').click();
    await session.page.getByRole('heading', { name: 'Signed in' }).waitFor();
    await session.page.locator('input[name=name]').fill('Brand');
    await session.page.locator('button').click();
    await session.page.getByRole('heading', { name: 'Saved' }).waitFor();
    // Chromium's background queries would have been sent by now (they follow a form's parse and submission).
    await new Promise((r) => setTimeout(r, 2_000));

    expect(session.refusals).toEqual([]);
  });

  it('refuses a redirect to the metadata address before connecting to it', async () => {
    hosts.app.handle('/login', redirect('http://169.254.169.254/latest/meta-data/'));

    const response = await session.page.goto(`${hosts.app.origin}/login`);

    expect(response?.headers()[REFUSED_HEADER]).toBe('destination');
    expect(session.refusals).toContainEqual({ host: '169.254.169.254', reason: 'LinkLocalAddress' });
  });

  it.each([
    ['http://[::ffff:169.254.169.254]/latest/meta-data/', '::ffff:a9fe:a9fe', 'LinkLocalAddress'],
    ['http://2852039166/latest/meta-data/', '169.254.169.254', 'LinkLocalAddress'],
    ['http://[fd00:ec2::254]/latest/meta-data/', 'fd00:ec2::254', 'MetadataAddress'],
    ['FOREIGN/collect', '127.0.0.2', 'NotAllowed'],
  ])('blocks a subresource request to %s', async (target, host, reason) => {
    const url = target.replace('FOREIGN', hosts.foreign.origin);
    hosts.app.handle('/page', html('<p>app</p>'));
    await session.page.goto(`${hosts.app.origin}/page`);
    const failed = session.page.waitForEvent('requestfailed');

    await session.page.evaluate((target) => {
      void fetch(target, { mode: 'no-cors' }).catch(() => undefined);
    }, url);

    expect((await failed).failure()?.errorText).toContain('ERR_BLOCKED_BY_CLIENT');
    expect(session.refusals).toContainEqual({ host, reason });
  });

  it('refuses a subresource that redirects to the metadata address', async () => {
    hosts.app.handle('/page', html('<p>app</p>'));
    hosts.app.handle('/image', redirect('http://[::ffff:169.254.169.254]/latest/meta-data/'));
    await session.page.goto(`${hosts.app.origin}/page`);

    await session.page.evaluate(async () => {
      await fetch('/image', { mode: 'no-cors' });
    });

    expect(session.refusals).toContainEqual({ host: '::ffff:a9fe:a9fe', reason: 'LinkLocalAddress' });
    expect(session.refusedNavigation).toBeUndefined();
  });

  it('refuses a WebSocket to a foreign loopback host before it connects', async () => {
    hosts.app.handle('/page', html('<p>app</p>'));
    await session.page.goto(`${hosts.app.origin}/page`);

    const outcome = await session.page.evaluate(
      (target) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(target);
          ws.onopen = () => resolve('open');
          ws.onerror = () => resolve('error');
        }),
      `${hosts.foreign.origin.replace('http:', 'ws:')}/socket`,
    );

    expect(outcome).toBe('error');
    expect(hosts.foreign.upgrades).toBe(0);
    expect(session.refusals).toContainEqual({ host: '127.0.0.2', reason: 'NotAllowed' });
  });

  it('will not type a secret once a script has sent the page to another host', async () => {
    hosts.app.handle('/form', html('<input id="password" type="password">'));
    await session.page.goto(`${hosts.app.origin}/form`);

    const refused = session.page.waitForEvent('requestfailed');
    void session.page
      .evaluate(`location.href = ${JSON.stringify(`${hosts.foreign.origin}/look-alike`)}`)
      .catch(() => undefined);
    await refused;
    const error = await fillSecret(
      ctx(),
      session.page.locator('#password'),
      new SecretValue(PASSWORD),
      'password',
    ).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(isConnectorError(error) && error.reason).toBe('LoginHostNotAllowed');
    expect((error as Error).message).toContain('127.0.0.2');
    expect((error as Error).message).not.toContain(PASSWORD);
  });

  it('will not type a secret into a frame of the page that is not on an allowed host', async () => {
    hosts.app.handle('/framed', html(`<iframe srcdoc="<input id='password' type='password'>"></iframe>`));
    await session.page.goto(`${hosts.app.origin}/framed`);
    const field = session.page.frameLocator('iframe').locator('#password');
    await field.waitFor();

    const error = await fillSecret(ctx(), field, new SecretValue(PASSWORD), 'password').then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(isConnectorError(error) && error.reason).toBe('LoginHostNotAllowed');
    expect(await field.inputValue()).toBe('');
  });

  it('types a secret into a frame of the page that is on an allowed host', async () => {
    hosts.app.handle('/framed', html('<iframe src="/inner"></iframe>'));
    hosts.app.handle('/inner', html('<input id="password" type="password">'));
    await session.page.goto(`${hosts.app.origin}/framed`);
    const field = session.page.frameLocator('iframe').locator('#password');

    await fillSecret(ctx(), field, new SecretValue(PASSWORD), 'password');

    expect(await field.inputValue()).toBe(PASSWORD);
  });

  // Needs a non-loopback interface to mean something: with only `lo` (an empty network namespace),
  // Chromium gathers no candidates and sends nothing even without the flag.
  it('sends no WebRTC UDP around the proxy (a STUN server on the foreign host hears nothing)', async () => {
    const stun: Socket = createSocket('udp4');
    let datagrams = 0;
    stun.on('message', () => {
      datagrams++;
    });
    await new Promise<void>((resolve) => stun.bind(0, '127.0.0.2', resolve));
    try {
      hosts.app.handle('/page', html('<p>app</p>'));
      await session.page.goto(`${hosts.app.origin}/page`);

      const gathered = await session.page.evaluate(`(async () => {
        const pc = new RTCPeerConnection({ iceServers: [{ urls: 'stun:127.0.0.2:${(stun.address() as AddressInfo).port}' }] });
        pc.createDataChannel('x');
        const done = new Promise((resolve) => { pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve('complete'); });
        await pc.setLocalDescription(await pc.createOffer());
        const state = await Promise.race([done, new Promise((resolve) => setTimeout(() => resolve('gathering'), 3000))]);
        pc.close();
        return state;
      })()`);

      expect(['complete', 'gathering']).toContain(gathered);
      expect(datagrams).toBe(0);
    } finally {
      stun.close();
    }
  });

  it('explains a failure after the page was sent away as LoginHostNotAllowed, not as what the connector saw next', async () => {
    hosts.app.handle('/login', redirect(`${hosts.foreign.origin}/phish`));
    await session.page.goto(`${hosts.app.origin}/login`);

    const explained = session.explainFailure(new Error('Timeout 3000ms exceeded'));
    const sinkFailure = sinkUnavailable('the pending seed', 'enrollment was not confirmed, MFA stays off');

    expect(isConnectorError(explained) && explained.reason).toBe('LoginHostNotAllowed');
    expect(isConnectorError(explained) && explained.retryable).toBe(false);
    // What the runner says about the store is kept: it tells the account's state.
    expect(session.explainFailure(sinkFailure)).toBe(sinkFailure);
  });

  it('forgets a refused navigation once the page is back on the allowed host', async () => {
    hosts.app.handle('/login', redirect(`${hosts.foreign.origin}/phish`));
    hosts.app.handle('/page', html('<p>app</p>'));
    await session.page.goto(`${hosts.app.origin}/login`);
    await session.page.goto(`${hosts.app.origin}/page`);

    const timeout = new Error('Timeout 3000ms exceeded');

    expect(session.refusedNavigation).toBeUndefined();
    expect(session.explainFailure(timeout)).toBe(timeout);
  });

  it('still lets pages on the allowed host load, redirect within it and open WebSockets to it', async () => {
    hosts.app.handle('/start', redirect('/landing'));
    hosts.app.handle('/landing', html('<h1>Landing</h1>'));

    const response = await session.page.goto(`${hosts.app.origin}/start`);
    const socket = await session.page.evaluate(
      (target) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(target);
          ws.onopen = () => resolve('open');
          ws.onerror = () => resolve('error');
        }),
      `${hosts.app.origin.replace('http:', 'ws:')}/socket`,
    );

    expect(response?.status()).toBe(200);
    expect(new URL(session.page.url()).pathname).toBe('/landing');
    // The app's server takes the upgrade and hangs up: it was reached, through the proxy.
    expect(socket).toBe('error');
    expect(hosts.app.upgrades).toBe(1);
    expect(session.refusals).toEqual([]);
  });
});
