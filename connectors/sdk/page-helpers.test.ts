import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logging/logger.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { BrowserSession, launchBrowser } from './browser.ts';
import { fillCodeBoxes } from './code-boxes.ts';
import type { ConnectorContext } from './connector.ts';
import { totpParametersInText } from './otpauth-uri.ts';
import { appPages } from './pages.ts';
import { passPasswordReconfirmation, reconfirmationShown } from './reconfirmation.ts';
import { signInInSteps, type SignInForm } from './sign-in-flow.ts';
import { formOf, htmlPage as page, serveLoopbackPages, type LoopbackPages } from './testing/loopback-pages.ts';
import { reasonOf } from './testing/reasons.ts';

/**
 * The SDK's page helpers against small pages served from loopback, in real Chromium. Each page
 * is the smallest form of what apps do: one-digit code boxes, a password prompt in a dialog on
 * the page that was asked for, an email page before the password page.
 */

const logger = createLogger('page-helpers-test', { level: 'silent' });
const APP = 'Tiny App';
const pages = appPages(APP);
const PASSWORD = 'right password';

const BOXES = `<form><h1>Enter code</h1>${[1, 2, 3, 4, 5, 6].map((i) => `<input class="box" maxlength="1" aria-label="Digit ${i}">`).join('')}</form>`;

/** A security page that asks for the password in a dialog over itself; the URL never changes. */
const IN_PLACE = `<h1>Security</h1><p>Authenticator app: off</p>
<div role="dialog" id="confirm"><form id="f"><label>Password <input type="password" id="pw"></label><button>Confirm</button></form></div>
<script>
  document.getElementById('f').addEventListener('submit', (event) => {
    event.preventDefault();
    if (document.getElementById('pw').value === ${JSON.stringify(PASSWORD)}) { document.getElementById('confirm').remove(); return; }
    const alert = document.createElement('p'); alert.setAttribute('role', 'alert'); alert.textContent = 'Incorrect password.';
    document.getElementById('f').append(alert);
  });
</script>`;

const SETUP_TEXT = '<h1>Set up</h1><p id="params">Use HMAC-SHA256, 8 digits, a new code every 60 seconds.</p>';

describe('SDK page helpers in Chromium', () => {
  let server: LoopbackPages;
  let origin: string;
  let browser: Browser;
  let session: BrowserSession;
  /** What the two-page sign-in received, in order: which page got which field. */
  const received: string[] = [];

  beforeAll(async () => {
    server = await serveLoopbackPages((req, res) => {
      void (async () => {
        const html = (body: string, status = 200) =>
          res.writeHead(status, { 'content-type': 'text/html' }).end(page(body));
        const url = new URL(req.url ?? '/', 'http://x');
        if (req.method === 'POST' && url.pathname === '/email') {
          const form = await formOf(req);
          received.push(`email page: ${[...form.keys()].join(',')}`);
          if (form.get('email') !== 'a@example.com')
            return html(
              '<p role="alert">Unknown email</p><form method="post" action="/email"><input name="email" aria-label="Email"></form>',
              200,
            );
          return html(
            '<form method="post" action="/password"><input type="password" name="password" aria-label="Password"><button>Sign in</button></form>',
          );
        }
        if (req.method === 'POST' && url.pathname === '/password') {
          const form = await formOf(req);
          received.push(`password page: ${[...form.keys()].join(',')}`);
          if (form.get('password') !== PASSWORD) return html('<p role="alert">Wrong password</p>', 401);
          return res.writeHead(303, { location: '/home' }).end();
        }
        if (req.method === 'POST' && url.pathname === '/both') {
          const form = await formOf(req);
          received.push(`one page: ${[...form.keys()].join(',')}`);
          return res.writeHead(303, { location: '/home' }).end();
        }
        const routes: Record<string, string> = {
          '/two-page':
            '<form method="post" action="/email"><input name="email" aria-label="Email"><button>Next</button></form>',
          '/one-page':
            '<form method="post" action="/both"><input name="email" aria-label="Email"><input type="password" name="password" aria-label="Password"><button>Sign in</button></form>',
          '/home': '<h1>Home</h1>',
          '/boxes': BOXES,
          '/in-place': IN_PLACE,
          '/setup': SETUP_TEXT,
          '/headings':
            '<h1 hidden>Stale</h1><h2>Section</h2><div role="heading" aria-level="2">Aside</div><div role="heading" aria-level="1">Account</div><h1>Later</h1>',
          '/no-heading': '<h2>Only a section</h2><p role="alert"> Saved. </p>',
        };
        const body = routes[url.pathname];
        return body === undefined ? html('not found', 404) : html(body);
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
    received.length = 0;
    session = await BrowserSession.open(browser, { allowedHosts: ['127.0.0.1'], logger });
  });
  afterEach(async () => {
    await session.close();
  });

  function context(stepUpPassword = PASSWORD): ConnectorContext {
    const credentials = { username: 'a@example.com', password: new SecretValue(stepUpPassword) };
    return {
      page: session.page,
      loginUrl: new URL(`${origin}/`),
      logger,
      timeouts: { navigationMs: 10_000, actionMs: 5_000 },
      stepUp: { credentials },
    };
  }

  async function boxValues(ctx: ConnectorContext): Promise<string> {
    return (await Promise.all((await ctx.page.locator('input.box').all()).map((box) => box.inputValue()))).join('');
  }

  describe('fillCodeBoxes', () => {
    it('types one digit a box when the box count matches the code', async () => {
      const ctx = context();
      await pages.open(ctx, `${origin}/boxes`, 'opening the code page');
      await fillCodeBoxes(ctx, ctx.page.locator('input.box'), new SecretValue('123456'), 'sign-in code', APP);
      expect(await boxValues(ctx)).toBe('123456');
    });

    it('refuses a code longer than the boxes with ConnectorOutdated and types nothing', async () => {
      const ctx = context();
      await pages.open(ctx, `${origin}/boxes`, 'opening the code page');
      let message = '';
      const reason = await reasonOf(
        fillCodeBoxes(ctx, ctx.page.locator('input.box'), new SecretValue('12345678'), 'sign-in code', APP).catch(
          (e: unknown) => {
            message = String((e as Error).message);
            throw e;
          },
        ),
      );
      expect(reason).toBe('ConnectorOutdated');
      expect(message).toContain('8 one-digit boxes for the sign-in code (found 6)');
      expect(message).not.toContain('12345678');
      expect(await boxValues(ctx)).toBe('');
    });

    it('refuses a code shorter than the boxes', async () => {
      const ctx = context();
      await pages.open(ctx, `${origin}/boxes`, 'opening the code page');
      expect(
        await reasonOf(fillCodeBoxes(ctx, ctx.page.locator('input.box'), new SecretValue('1234'), 'sign-in code', APP)),
      ).toBe('ConnectorOutdated');
    });
  });

  describe('passPasswordReconfirmation', () => {
    it('detects a password prompt shown in place, on the URL that was asked for', async () => {
      const ctx = context();
      await pages.open(ctx, `${origin}/in-place`, 'opening security');
      expect(await reconfirmationShown(ctx)).toBe(true);
      await pages.open(ctx, `${origin}/home`, 'opening home');
      expect(await reconfirmationShown(ctx)).toBe(false);
    });

    it('answers it with the stored password and leaves the page that was asked for', async () => {
      const ctx = context();
      await pages.open(ctx, `${origin}/in-place`, 'opening security');
      expect(await passPasswordReconfirmation(ctx, pages)).toBe(true);
      expect(await ctx.page.getByRole('dialog').count()).toBe(0);
      expect(new URL(ctx.page.url()).pathname).toBe('/in-place');
      expect(await pages.heading(ctx)).toBe('Security');
    });

    it('reports StepUpRequired when the prompt stays with an error', async () => {
      const ctx = context('not the password');
      await pages.open(ctx, `${origin}/in-place`, 'opening security');
      expect(await reasonOf(passPasswordReconfirmation(ctx, pages))).toBe('StepUpRequired');
      expect(await pages.alertText(ctx)).toBe('Incorrect password.');
    });

    it('leaves a page without a prompt alone', async () => {
      const ctx = context();
      await pages.open(ctx, `${origin}/home`, 'opening home');
      expect(await passPasswordReconfirmation(ctx, pages)).toBe(false);
    });
  });

  describe('signInInSteps', () => {
    const form: SignInForm = {
      username: (ctx) => ctx.page.getByLabel('Email'),
      password: (ctx) => ctx.page.getByLabel('Password'),
    };

    it('types the email on the first page and the password on the page that answers', async () => {
      const ctx = context();
      await pages.open(ctx, `${origin}/two-page`, 'opening sign-in');
      const responses = await signInInSteps(ctx, pages, form, {
        username: 'a@example.com',
        password: new SecretValue(PASSWORD),
      });
      expect(responses.username?.status()).toBe(200);
      expect(responses.password.status()).toBe(303);
      expect(received).toEqual(['email page: email', 'password page: password']);
      expect(await pages.heading(ctx)).toBe('Home');
    });

    it('stops before the password when the email page refuses the email', async () => {
      const ctx = context();
      await pages.open(ctx, `${origin}/two-page`, 'opening sign-in');
      const refused = signInInSteps(
        ctx,
        pages,
        form,
        { username: 'nobody@example.com', password: new SecretValue(PASSWORD) },
        async () => {
          if ((await pages.alertText(ctx)) === 'Unknown email') throw new Error('unknown email');
        },
      );
      await expect(refused).rejects.toThrow('unknown email');
      expect(received).toEqual(['email page: email']);
    });

    it('returns the refused password response for the connector to map', async () => {
      const ctx = context();
      await pages.open(ctx, `${origin}/two-page`, 'opening sign-in');
      const responses = await signInInSteps(ctx, pages, form, {
        username: 'a@example.com',
        password: new SecretValue('wrong'),
      });
      expect(responses.password.status()).toBe(401);
    });

    it('types both on one page when the password field is already there', async () => {
      const ctx = context();
      await pages.open(ctx, `${origin}/one-page`, 'opening sign-in');
      const responses = await signInInSteps(ctx, pages, form, {
        username: 'a@example.com',
        password: new SecretValue(PASSWORD),
      });
      expect(responses.username).toBeUndefined();
      expect(received).toEqual(['one page: email,password']);
    });
  });

  describe('totpParametersInText', () => {
    it('reads algorithm, digits and period from the text a setup page shows', async () => {
      const ctx = context();
      await pages.open(ctx, `${origin}/setup`, 'opening setup');
      const text = await ctx.page.locator('#params').innerText();
      expect(totpParametersInText(text)).toEqual({ algorithm: 'SHA256', digits: 8, period: 60 });
    });

    it('reads labelled lines and returns only what is stated', () => {
      expect(totpParametersInText('Algorithm: SHA1\nDigits: 6\nInterval: 30')).toEqual({
        algorithm: 'SHA1',
        digits: 6,
        period: 30,
      });
      expect(totpParametersInText('Scan the code with your app.')).toEqual({});
      expect(totpParametersInText('Codes have 8 digits')).toEqual({ digits: 8 });
    });

    it('refuses a stated algorithm it cannot use instead of reading it as the default', () => {
      expect(() => totpParametersInText('Algorithm: MD5')).toThrow(/algorithm "MD5"/);
      expect(() => totpParametersInText('Digits: 7')).toThrow(/digits "7"/);
    });
  });
  it('reads the first visible level-1 heading, whether an <h1> or declared by role, and the first alert', async () => {
    const ctx = context();
    await session.page.goto(`${origin}/headings`);
    expect(await pages.heading(ctx)).toBe('Account');
    await session.page.goto(`${origin}/no-heading`);
    expect(await pages.heading(ctx)).toBe('');
    expect(await pages.alertText(ctx)).toBe('Saved.');
  });
});
