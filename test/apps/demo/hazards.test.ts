import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDemoApp, type DemoApp } from './demo-app.ts';
import type { HazardSettings } from './hazards.ts';
import { alertText, DemoHttpClient, decodeQrImage, recoveryCodesOn, textById } from './client/http-client.ts';
import { codeAt, ManualClock, setupKey, signIn, startEnrollment } from './client/flows.ts';

const EMAIL = 'hazard@example.com';
const PASSWORD = 'hazard password';
const KNOWN_SEED = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

describe('demo app hazards', () => {
  let app: DemoApp;
  let client: DemoHttpClient;
  const clock = new ManualClock();

  beforeAll(async () => {
    app = await startDemoApp({ clock: clock.read, logger: pino({ level: 'silent' }) });
  });

  afterAll(async () => {
    await app.stop();
  });

  beforeEach(() => {
    client = new DemoHttpClient(app.url);
  });

  function account(hazards: HazardSettings): void {
    app.accounts.upsert({ email: EMAIL, password: PASSWORD, hazards });
  }

  it('mfaAlreadyOn: starts with TOTP on with the supplied seed and refuses a second enrollment', async () => {
    account({ mfaAlreadyOn: { seed: KNOWN_SEED, recoveryCodes: ['aaaaa-bbbbb'] } });
    const prompt = await signIn(client, EMAIL, PASSWORD);
    expect(prompt.path).toBe('/login/two-factor');
    const dashboard = await client.submit(prompt, '/login/two-factor', { code: codeAt(KNOWN_SEED, clock.now) });
    expect(dashboard.path).toBe('/');

    const settings = await client.get('/settings/security');
    expect(settings.html).toContain('data-mfa="on"');
    expect(settings.html).not.toContain('Turn on authenticator app');
    const refused = await client.submit(settings, '/settings/security/totp/enroll', {});
    expect(refused.status).toBe(409);
    expect(alertText(refused)).toBe('An authenticator app is already set up.');
    expect(app.accounts.status(EMAIL).mfa).toMatchObject({
      enabled: true,
      methods: ['totp'],
      recoveryCodesRemaining: 1,
    });
  });

  it('otherMfaMethod: settings says SMS is on and enrollment is refused', async () => {
    account({ otherMfaMethod: true });
    await signIn(client, EMAIL, PASSWORD);
    const settings = await client.get('/settings/security');
    expect(textById(settings, 'other-mfa-method')).toBe(
      'SMS two-factor authentication is on. Turn off SMS before adding an authenticator app.',
    );
    expect(settings.html).toContain('<li>SMS: On</li>');
    expect(settings.html).not.toContain('>Turn on authenticator app</button>');

    const refused = await client.submit(settings, '/settings/security/totp/enroll', {});
    expect(refused.status).toBe(409);
    expect(app.accounts.status(EMAIL).mfa).toMatchObject({ enabled: true, methods: ['sms'], pendingEnrollment: false });
  });

  it('stepUp: security settings ask for the password again first', async () => {
    account({ stepUp: true });
    await signIn(client, EMAIL, PASSWORD);
    const prompt = await client.get('/settings/security');
    expect(prompt.path).toBe('/settings/sudo');
    expect(prompt.html).toContain('<h1>Confirm your password</h1>');

    const wrong = await client.submit(prompt, '/settings/sudo', { password: 'nope', next: '/settings/security' });
    expect(wrong.status).toBe(401);
    expect(alertText(wrong)).toBe('Incorrect password.');
    const settings = await client.submit(wrong, '/settings/sudo', { password: PASSWORD, next: '/settings/security' });
    expect(settings.path).toBe('/settings/security');
    expect(settings.html).toContain('<h1>Security</h1>');

    const setup = await client.get('/settings/security/totp/setup?show-key=1');
    expect(setup.path).toBe('/settings/security');
    clock.advanceSeconds(15 * 60);
    const expired = await client.submit(settings, '/settings/security/totp/enroll', {});
    expect(expired.path).toBe('/settings/sudo');
    const back = await client.submit(expired, '/settings/sudo', { password: PASSWORD, next: '/settings/security' });
    expect(back.path).toBe('/settings/security');
    expect(app.accounts.status(EMAIL).mfa.pendingEnrollment).toBe(false);
  });

  it('stepUp: the confirmation returns to the page that was asked for', async () => {
    account({ stepUp: true });
    await signIn(client, EMAIL, PASSWORD);
    const prompt = await client.get('/settings/security/totp/disable');
    expect(prompt.html).toContain('name="next" value="/settings/security/totp/disable"');
  });

  it('captcha: a correct password leads to a challenge that never lets the session in', async () => {
    account({ captcha: true });
    const challenge = await signIn(client, EMAIL, PASSWORD);
    expect(challenge.path).toBe('/login/verify-human');
    expect(challenge.html).toContain('<h1>Verify you are human</h1>');
    const again = await client.submit(challenge, '/login/verify-human', { captcha: 'xkcd' });
    expect(again.status).toBe(422);
    expect((await client.get('/settings/security')).path).toBe('/login');
  });

  it('rateLimit: sign-in answers 429 with Retry-After', async () => {
    account({ rateLimit: 120 });
    const limited = await signIn(client, EMAIL, PASSWORD);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('120');
    expect(limited.html).toContain('<h1>Too many sign-in attempts</h1>');
  });

  it('slowPages: every page of the account waits first', async () => {
    account({ slowPages: 300 });
    await signIn(client, EMAIL, PASSWORD);
    const started = performance.now();
    await client.get('/settings/security');
    // A lower bound only: the delay is the behaviour under test, not a performance figure.
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('qrOnly: no setup key link, and asking for the key anyway shows none', async () => {
    account({ qrOnly: true });
    await signIn(client, EMAIL, PASSWORD);
    const setup = await startEnrollment(client);
    expect(setup.html).not.toContain("Can't scan?");
    expect(textById(setup, 'totp-setup-key')).toBeUndefined();
    expect(decodeQrImage(setup)).toMatch(/^otpauth:\/\/totp\/.*secret=[A-Z2-7]{32}&/);
  });

  it('lowercaseGroupedKey: the key is lower case in groups of four and still verifies', async () => {
    account({ lowercaseGroupedKey: true });
    await signIn(client, EMAIL, PASSWORD);
    const setup = await startEnrollment(client);
    const key = setupKey(setup);
    expect(key).toMatch(/^([a-z2-7]{4} ){7}[a-z2-7]{4}$/);
    expect(decodeQrImage(setup)).toContain(`secret=${key.replace(/ /g, '').toUpperCase()}&`);
    const codes = await client.submit(setup, '/settings/security/totp/confirm', { code: codeAt(key, clock.now) });
    expect(codes.path).toBe('/settings/security/recovery-codes');
  });

  it('keyWithPadding: the key and the URI carry = padding', async () => {
    account({ keyWithPadding: true });
    await signIn(client, EMAIL, PASSWORD);
    const setup = await startEnrollment(client);
    const key = setupKey(setup);
    expect(key).toMatch(/^[A-Z2-7]{26}======$/);
    expect(decodeQrImage(setup)).toContain(`secret=${key}&`);
    const codes = await client.submit(setup, '/settings/security/totp/confirm', { code: codeAt(key, clock.now) });
    expect(codes.path).toBe('/settings/security/recovery-codes');
  });

  it('qrFormat: svg and canvas replace the PNG image', async () => {
    account({ qrFormat: 'svg' });
    await signIn(client, EMAIL, PASSWORD);
    const svg = await startEnrollment(client);
    expect(svg.html).toMatch(/<svg id="totp-qr" role="img" aria-label="QR code for authenticator app setup"/);
    expect(svg.html).not.toContain('data:image/png');

    app.accounts.setHazards(EMAIL, { qrFormat: 'canvas' });
    const canvas = await client.get('/settings/security/totp/setup');
    expect(canvas.html).toMatch(/<canvas id="totp-qr" role="img" aria-label="QR code for authenticator app setup"/);
    const nonce = /script-src 'nonce-([^']+)'/.exec(canvas.headers.get('content-security-policy') ?? '')?.[1];
    expect(canvas.html).toContain(`<script nonce="${nonce}">`);
  });

  it('requireCodesAcknowledged: MFA turns on only after "I have saved these codes"', async () => {
    account({ requireCodesAcknowledged: true });
    await signIn(client, EMAIL, PASSWORD);
    const setup = await startEnrollment(client);
    const codesPage = await client.submit(setup, '/settings/security/totp/confirm', {
      code: codeAt(setupKey(setup), clock.now),
    });
    expect(recoveryCodesOn(codesPage)).toHaveLength(10);
    expect(codesPage.html).toContain('data-mfa="off"');
    expect(app.accounts.status(EMAIL).mfa).toMatchObject({ enabled: false, pendingEnrollment: true });

    const settings = await client.submit(codesPage, '/settings/security/recovery-codes/acknowledge', {});
    expect(settings.html).toContain('data-mfa="on"');
    expect(app.accounts.status(EMAIL).mfa).toMatchObject({
      enabled: true,
      pendingEnrollment: false,
      recoveryCodesRemaining: 10,
    });
  });

  it('totp parameters: SHA256, 8 digits, 60 s are shown with the key and used for verification', async () => {
    const parameters = { algorithm: 'SHA256', digits: 8, period: 60 } as const;
    account({ totp: parameters });
    await signIn(client, EMAIL, PASSWORD);
    const setup = await startEnrollment(client);
    expect([textById(setup, 'totp-algorithm'), textById(setup, 'totp-digits'), textById(setup, 'totp-period')]).toEqual(
      ['SHA256', '8', '60'],
    );
    expect(decodeQrImage(setup)).toMatch(/&algorithm=SHA256&digits=8&period=60$/);
    const sha1Code = codeAt(setupKey(setup), clock.now, { digits: 8, period: 60 });
    expect((await client.submit(setup, '/settings/security/totp/confirm', { code: sha1Code })).status).toBe(422);
    const code = codeAt(setupKey(setup), clock.now, parameters);
    expect((await client.submit(setup, '/settings/security/totp/confirm', { code })).path).toBe(
      '/settings/security/recovery-codes',
    );
    expect(app.accounts.status(EMAIL).mfa).toMatchObject({ algorithm: 'SHA256', digits: 8, period: 60 });
  });
});
