import { describe, expect, it } from 'vitest';
import { isConnectorError } from '../sdk/errors.ts';
import { mfaStateFromLinks } from './mfa-state.ts';
import { siteUrls } from './site-urls.ts';

const urls = siteUrls(new URL('https://app.example.com/accounts/login/'));
const link = (path: string) => `https://app.example.com/accounts/${path}`;

describe("mfaStateFromLinks (the links of allauth's Two-Factor Authentication page)", () => {
  it('reads "Activate" as the authenticator app being off', () => {
    expect(mfaStateFromLinks(urls, [link('email/'), link('2fa/totp/activate/')])).toEqual({
      totpEnabled: false,
      otherMethods: [],
    });
  });

  it('reads "Deactivate" as on, whatever the recovery code links say', () => {
    const links = [link('2fa/totp/deactivate/'), link('2fa/recovery-codes/'), link('2fa/recovery-codes/generate/')];
    expect(mfaStateFromLinks(urls, links)).toEqual({ totpEnabled: true, otherMethods: [] });
  });

  it('reports added security keys (their "Manage" link) as another method, and the "Add" link as none', () => {
    expect(mfaStateFromLinks(urls, [link('2fa/totp/activate/'), link('2fa/webauthn/')]).otherMethods).toEqual([
      'webauthn',
    ]);
    expect(mfaStateFromLinks(urls, [link('2fa/totp/activate/'), link('2fa/webauthn/add/')]).otherMethods).toEqual([]);
  });

  it('refuses a page without either authenticator app link as ConnectorOutdated', () => {
    let reason = 'no error';
    try {
      mfaStateFromLinks(urls, [link('2fa/recovery-codes/')]);
    } catch (e: unknown) {
      if (isConnectorError(e)) reason = e.reason;
    }
    expect(reason).toBe('ConnectorOutdated');
  });
});
