import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logging/logger.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { BrowserSession, launchBrowser } from '../sdk/browser.ts';
import type { ConnectorContext } from '../sdk/connector.ts';
import { isConnectorError } from '../sdk/errors.ts';
import { formOf, htmlPage as html, serveLoopbackPages, type LoopbackPages } from '../sdk/testing/loopback-pages.ts';
import { signIn } from './sign-in.ts';

/**
 * The answers to Gitea's sign-in that the test instance never gives (gitea.test.ts has the rest),
 * served from loopback in real Chromium at Gitea's paths: a proxy's 429, a prohibited account, a
 * forced password change, a refused code. The user name picks the answer.
 */

const logger = createLogger('gitea-sign-in-test', { level: 'silent' });
const LOGIN_FORM =
  '<form class="ui form" action="/user/login" method="post"><input name="user_name"><input name="password" type="password"><button>Sign In</button></form>';
const CODE_FORM =
  '<form class="ui form" action="/user/two_factor" method="post"><input name="passcode"><button>Verify</button></form>';

describe('gitea signIn: answers the test instance does not give', () => {
  let server: LoopbackPages;
  let origin: string;
  let browser: Browser;
  let session: BrowserSession;

  beforeAll(async () => {
    server = await serveLoopbackPages((req, res) => {
      void (async () => {
        const page = (body: string, status = 200, headers: Record<string, string> = {}) =>
          res.writeHead(status, { 'content-type': 'text/html', ...headers }).end(html(body));
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        if (req.method === 'POST' && path === '/user/login') {
          const user = (await formOf(req)).get('user_name');
          if (user === 'limited') return page('<h1>Too Many Requests</h1>', 429, { 'retry-after': '120' });
          if (user === 'prohibited')
            return page('<h1>Sign-In Prohibited</h1><p>Your account is prohibited from signing in.</p>');
          if (user === 'stale') return res.writeHead(303, { location: '/user/settings/change_password' }).end();
          if (user === 'enrolled') return res.writeHead(303, { location: '/user/two_factor' }).end();
          return page(`<div class="flash-message flash-error">Username or password is incorrect.</div>${LOGIN_FORM}`);
        }
        // Every code is refused: the form again, as Gitea re-renders it.
        if (req.method === 'POST' && path === '/user/two_factor')
          return page(`<div class="flash-error">Your passcode is incorrect.</div>${CODE_FORM}`);
        const routes: Record<string, string> = {
          '/user/login': LOGIN_FORM,
          '/user/two_factor': CODE_FORM,
          '/user/settings/change_password': '<h1>Change password</h1>',
        };
        const body = routes[path];
        return body === undefined ? page('not found', 404) : page(body);
      })();
    });
    origin = server.origin;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  beforeEach(async () => {
    session = await BrowserSession.open(browser, { allowedHosts: ['127.0.0.1'], logger });
  });
  afterEach(async () => {
    await session.close();
  });

  function context(): ConnectorContext {
    const credentials = { username: 'x', password: new SecretValue('pw') };
    return {
      page: session.page,
      loginUrl: new URL(`${origin}/user/login`),
      logger,
      timeouts: { navigationMs: 10_000, actionMs: 5_000 },
      stepUp: { credentials },
    };
  }

  async function failure(
    username: string,
    code?: string,
  ): Promise<{ reason: string; retryAfterSeconds?: number; message: string }> {
    const secondFactor = code === undefined ? undefined : { totpCode: () => Promise.resolve(new SecretValue(code)) };
    try {
      await signIn(context(), { username, password: new SecretValue('pw') }, secondFactor);
    } catch (e: unknown) {
      if (isConnectorError(e))
        return {
          reason: e.reason,
          message: e.message,
          ...(e.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: e.retryAfterSeconds }),
        };
      throw e;
    }
    return { reason: 'signed in', message: '' };
  }

  it('reports a 429 from a proxy in front as RateLimited, with its Retry-After', async () => {
    expect(await failure('limited')).toMatchObject({ reason: 'RateLimited', retryAfterSeconds: 120 });
  });

  it('reports the sign-in form again as InvalidCredentials', async () => {
    expect(await failure('nobody')).toMatchObject({
      reason: 'InvalidCredentials',
      message: expect.stringContaining('rejected the username or password'),
    });
  });

  it('reports a prohibited account (the sign-in page without its form) as InvalidCredentials for the administrator', async () => {
    expect(await failure('prohibited')).toMatchObject({
      reason: 'InvalidCredentials',
      message: expect.stringContaining("instance's administrator"),
    });
  });

  it('reports a forced password change as ChallengeRequired', async () => {
    expect(await failure('stale')).toMatchObject({
      reason: 'ChallengeRequired',
      message: expect.stringContaining('new password'),
    });
  });

  it('reports the code page without a stored seed as MfaAlreadyEnabled, and a refused stored code as InvalidCredentials', async () => {
    expect((await failure('enrolled')).reason).toBe('MfaAlreadyEnabled');
    expect(await failure('enrolled', '123456')).toMatchObject({
      reason: 'InvalidCredentials',
      message: expect.stringContaining('stored material'),
    });
  });
});
