import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/logging/logger.ts';
import { startDemoApp, type DemoApp } from './demo-app.ts';
import { alertText, DemoHttpClient, recoveryCodesOn } from './client/http-client.ts';
import { codeAt, ManualClock, setupKey, signIn, startEnrollment } from './client/flows.ts';

const EMAIL = 'owner@example.com';
const PASSWORD = 'correct horse battery staple';

describe('demo app over HTTP: regenerating recovery codes', () => {
  let app: DemoApp;
  let clock: ManualClock;
  let client: DemoHttpClient;

  beforeEach(async () => {
    clock = new ManualClock();
    app = await startDemoApp({
      accounts: [{ email: EMAIL, password: PASSWORD, hazards: { stepUp: true } }],
      clock: clock.read,
      logger: createLogger('demo-app', { level: 'silent' }),
    });
    client = new DemoHttpClient(app.url);
  });

  afterEach(async () => {
    await app.stop();
  });

  async function confirmPassword(next: string) {
    const prompt = await client.get(`/settings/sudo?next=${encodeURIComponent(next)}`);
    return client.submit(prompt, '/settings/sudo', { password: PASSWORD, next });
  }

  /** Enrols (through the step-up), stays signed in, and answers the seed and the codes shown. */
  async function enroll(): Promise<{ seed: string; codes: string[] }> {
    await signIn(client, EMAIL, PASSWORD);
    await confirmPassword('/settings/security');
    const setup = await startEnrollment(client);
    const seed = setupKey(setup);
    const codesPage = await client.submit(setup, '/settings/security/totp/confirm', { code: codeAt(seed, clock.now) });
    const codes = recoveryCodesOn(codesPage);
    await client.submit(codesPage, '/settings/security/recovery-codes/acknowledge', {});
    return { seed, codes };
  }

  async function signInWithRecoveryCode(code: string) {
    await client.submit(await client.get('/'), '/logout', {});
    const prompt = await signIn(client, EMAIL, PASSWORD);
    return client.submit(prompt, '/login/recovery', { recovery_code: code });
  }

  it('replaces the set behind the step-up: the new codes sign in, every old one is refused', async () => {
    const { codes: old } = await enroll();
    expect((await client.get('/settings/security')).html).toContain('>Regenerate recovery codes</a>');
    clock.advanceSeconds(16 * 60);

    const expired = await client.get('/settings/security/recovery-codes/regenerate');
    expect(expired.path).toBe('/settings/sudo');
    const form = await client.submit(expired, '/settings/sudo', {
      password: PASSWORD,
      next: '/settings/security/recovery-codes/regenerate',
    });
    expect(form.html).toContain('<h1>Regenerate recovery codes</h1>');
    const shown = await client.submit(form, '/settings/security/recovery-codes/regenerate', {});

    expect(shown.path).toBe('/settings/security/recovery-codes');
    const fresh = recoveryCodesOn(shown);
    expect(fresh).toHaveLength(10);
    expect(fresh.filter((code) => old.includes(code))).toEqual([]);
    expect(app.accounts.status(EMAIL).mfa).toMatchObject({ enabled: true, recoveryCodesRemaining: 10 });

    const refused = await signInWithRecoveryCode(old[0]!);
    expect(refused.status).toBe(401);
    expect(alertText(refused)).toBe("That recovery code didn't work.");
    const dashboard = await signInWithRecoveryCode(fresh[0]!);
    expect(dashboard.path).toBe('/');
  });

  it('refuses a regeneration posted while the step-up has expired, keeping the old set', async () => {
    const { codes: old } = await enroll();
    const form = await client.get('/settings/security/recovery-codes/regenerate');
    clock.advanceSeconds(16 * 60);

    const prompt = await client.submit(form, '/settings/security/recovery-codes/regenerate', {});

    expect(prompt.path).toBe('/settings/sudo');
    expect((await signInWithRecoveryCode(old[0]!)).path).toBe('/');
  });

  it('has nothing to regenerate while the authenticator app is off', async () => {
    await signIn(client, EMAIL, PASSWORD);
    await confirmPassword('/settings/security');

    const page = await client.get('/settings/security/recovery-codes/regenerate');

    expect(page.path).toBe('/settings/security');
    expect(page.html).not.toContain('Regenerate recovery codes');
  });
});
