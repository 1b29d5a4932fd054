import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/logging/logger.ts';
import { startDemoApp, type DemoApp } from './demo-app.ts';
import { alertText, DemoHttpClient, decodeQrImage, recoveryCodesOn, textById } from './client/http-client.ts';
import { codeAt, ManualClock, setupKey, signIn, startEnrollment } from './client/flows.ts';

const EMAIL = 'owner@example.com';
const PASSWORD = 'correct horse battery staple';

describe('demo app over HTTP: sign-in and authenticator app enrollment', () => {
  let app: DemoApp;
  let clock: ManualClock;
  let client: DemoHttpClient;
  let logLines: string[];

  beforeEach(async () => {
    clock = new ManualClock();
    logLines = [];
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        logLines.push(chunk.toString());
        done();
      },
    });
    app = await startDemoApp({
      accounts: [{ email: EMAIL, password: PASSWORD }],
      clock: clock.read,
      logger: createLogger('demo-app', { level: 'debug' }, sink),
    });
    client = new DemoHttpClient(app.url);
  });

  afterEach(async () => {
    await app.stop();
  });

  /** Enrolls and acknowledges; answers the seed and the recovery codes. */
  async function enroll(): Promise<{ seed: string; codes: string[] }> {
    await signIn(client, EMAIL, PASSWORD);
    const setup = await startEnrollment(client);
    const seed = setupKey(setup);
    const codesPage = await client.submit(setup, '/settings/security/totp/confirm', { code: codeAt(seed, clock.now) });
    const codes = recoveryCodesOn(codesPage);
    await client.submit(codesPage, '/settings/security/recovery-codes/acknowledge', {});
    await client.submit(await client.get('/'), '/logout', {});
    return { seed, codes };
  }

  it('signs in with the right password and refuses a wrong one', async () => {
    const wrong = await signIn(client, EMAIL, 'not the password');
    expect(wrong.status).toBe(401);
    expect(alertText(wrong)).toBe('Incorrect email or password.');

    const dashboard = await signIn(client, EMAIL, PASSWORD);
    expect(dashboard.status).toBe(200);
    expect(dashboard.path).toBe('/');
    expect(dashboard.html).toContain(`Signed in as ${EMAIL}.`);
  });

  it('keeps the session in an HttpOnly cookie and rotates it at sign-in', async () => {
    const login = await client.get('/login');
    const before = client.cookieHeader();
    expect(login.headers.get('set-cookie')).toMatch(/demo_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax/);
    await client.submit(login, '/login', { email: EMAIL, password: PASSWORD });
    expect(client.cookieHeader()).not.toBe(before);
  });

  it('refuses a form posted without the session CSRF token', async () => {
    await client.get('/login');
    const response = await client.request('/login', {
      method: 'POST',
      body: new URLSearchParams({ email: EMAIL, password: PASSWORD, _csrf: 'forged' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response.status).toBe(403);
  });

  it('sends anonymous visitors of security settings to the login page', async () => {
    const page = await client.get('/settings/security');
    expect(page.path).toBe('/login');
  });

  it('enrolls through settings: QR and setup key carry the same seed, a wrong code keeps it pending', async () => {
    await signIn(client, EMAIL, PASSWORD);
    const settings = await client.get('/settings/security');
    expect(settings.html).toContain('data-mfa="off"');
    expect(settings.html).toContain('>Turn on authenticator app</button>');

    const setup = await startEnrollment(client);
    const seed = setupKey(setup);
    expect(seed).toMatch(/^[A-Z2-7]{32}$/);
    expect(decodeQrImage(setup)).toBe(
      `otpauth://totp/Demo%20SaaS:owner%40example.com?issuer=Demo%20SaaS&secret=${seed}&algorithm=SHA1&digits=6&period=30`,
    );
    expect(textById(setup, 'totp-algorithm')).toBe('SHA1');
    expect(textById(setup, 'totp-digits')).toBe('6');
    expect(textById(setup, 'totp-period')).toBe('30');

    const wrongCode = String((Number(codeAt(seed, clock.now)) + 1) % 1_000_000).padStart(6, '0');
    const refused = await client.submit(setup, '/settings/security/totp/confirm', { code: wrongCode });
    expect(refused.status).toBe(422);
    expect(alertText(refused)).toBe("That code didn't work. Check the time on your device and try again.");
    expect(app.accounts.status(EMAIL).mfa).toMatchObject({ enabled: false, pendingEnrollment: true });

    const codesPage = await client.submit(refused, '/settings/security/totp/confirm', {
      code: codeAt(seed, clock.now),
    });
    expect(codesPage.path).toBe('/settings/security/recovery-codes');
    const codes = recoveryCodesOn(codesPage);
    expect(codes).toHaveLength(10);
    for (const code of codes) expect(code).toMatch(/^[0-9a-f]{5}-[0-9a-f]{5}$/);
    expect(app.accounts.status(EMAIL).mfa).toMatchObject({
      enabled: true,
      methods: ['totp'],
      pendingEnrollment: false,
      recoveryCodesRemaining: 10,
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    });

    const download = await client.request('/settings/security/recovery-codes.txt');
    expect(download.headers.get('content-disposition')).toBe('attachment; filename="demo-saas-recovery-codes.txt"');
    expect((await download.text()).trim().split('\n')).toEqual(codes);

    const after = await client.submit(codesPage, '/settings/security/recovery-codes/acknowledge', {});
    expect(after.path).toBe('/settings/security');
    expect(after.html).toContain('data-mfa="on"');
    expect(after.html).toContain('Authenticator app: On');
  });

  it('gives a fresh seed each time enrollment starts', async () => {
    await signIn(client, EMAIL, PASSWORD);
    const first = setupKey(await startEnrollment(client));
    const second = setupKey(await startEnrollment(client));
    expect(second).not.toBe(first);
  });

  it('asks for a TOTP code at sign-in once enrolled, and refuses the code used to confirm', async () => {
    const seed = await enrollAndKeepConfirmCode();
    const prompt = await signIn(client, EMAIL, PASSWORD);
    expect(prompt.path).toBe('/login/two-factor');
    expect((await client.get('/settings/security')).path).toBe('/login');

    const replayed = await client.submit(prompt, '/login/two-factor', { code: seed.confirmCode });
    expect(replayed.status).toBe(401);
    expect(alertText(replayed)).toBe("That code didn't work. Try again.");

    clock.advanceSeconds(30);
    const fresh = codeAt(seed.seed, clock.now);
    const dashboard = await client.submit(replayed, '/login/two-factor', { code: fresh });
    expect(dashboard.path).toBe('/');

    await client.submit(dashboard, '/logout', {});
    const again = await signIn(client, EMAIL, PASSWORD);
    const reused = await client.submit(again, '/login/two-factor', { code: fresh });
    expect(reused.status).toBe(401);
  });

  async function enrollAndKeepConfirmCode(): Promise<{ seed: string; confirmCode: string }> {
    await signIn(client, EMAIL, PASSWORD);
    const setup = await startEnrollment(client);
    const seed = setupKey(setup);
    const confirmCode = codeAt(seed, clock.now);
    await client.submit(setup, '/settings/security/totp/confirm', { code: confirmCode });
    await client.submit(await client.get('/'), '/logout', {});
    return { seed, confirmCode };
  }

  it('accepts each recovery code once instead of a TOTP code', async () => {
    const { codes } = await enroll();
    const [code = ''] = codes;

    const prompt = await signIn(client, EMAIL, PASSWORD);
    const recovery = await client.get('/login/recovery');
    expect(recovery.html).toContain('<label for="recovery-code">Recovery code</label>');
    const dashboard = await client.submit(prompt, '/login/recovery', { recovery_code: code.toUpperCase() });
    expect(dashboard.path).toBe('/');
    expect(app.accounts.status(EMAIL).mfa.recoveryCodesRemaining).toBe(9);

    await client.submit(dashboard, '/logout', {});
    const again = await signIn(client, EMAIL, PASSWORD);
    const refused = await client.submit(again, '/login/recovery', { recovery_code: code });
    expect(refused.status).toBe(401);
    expect(alertText(refused)).toBe("That recovery code didn't work.");
  });

  it('turns the authenticator app off only with a current code', async () => {
    const { seed } = await enroll();
    clock.advanceSeconds(30);
    const prompt = await signIn(client, EMAIL, PASSWORD);
    await client.submit(prompt, '/login/two-factor', { code: codeAt(seed, clock.now) });

    const disable = await client.get('/settings/security/totp/disable');
    expect(disable.html).toContain('<label for="totp-code">Authentication code</label>');
    const stale = await client.submit(disable, '/settings/security/totp/disable', {
      code: codeAt(seed, clock.now - 5 * 60_000),
    });
    expect(stale.status).toBe(422);
    expect(app.accounts.status(EMAIL).mfa.enabled).toBe(true);

    clock.advanceSeconds(30);
    const settings = await client.submit(stale, '/settings/security/totp/disable', { code: codeAt(seed, clock.now) });
    expect(settings.path).toBe('/settings/security');
    expect(settings.html).toContain('<p role="status">Authenticator app turned off.</p>');
    expect(settings.html).toContain('data-mfa="off"');
    expect(app.accounts.status(EMAIL).mfa).toMatchObject({ enabled: false, methods: [], recoveryCodesRemaining: 0 });
  });

  it('never writes the password, seed, TOTP codes or recovery codes to its log', async () => {
    const { seed, codes } = await enroll();
    clock.advanceSeconds(30);
    const code = codeAt(seed, clock.now);
    const prompt = await signIn(client, EMAIL, PASSWORD);
    await client.submit(prompt, '/login/two-factor', { code });

    const log = logLines.join('');
    expect(log).toContain('code accepted');
    for (const secret of [PASSWORD, seed, code, ...codes]) expect(log).not.toContain(secret);
  });
});
