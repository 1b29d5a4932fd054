import { describe, expect, it } from 'vitest';
import { isConnectorError } from '../sdk/errors.ts';
import { pageAt, siteUrls } from './site-urls.ts';

describe('siteUrls (where a site mounts allauth, from the loginUrl)', () => {
  it("reads allauth's usual accounts/ prefix", () => {
    const urls = siteUrls(new URL('https://app.example.com/accounts/login/?next=/dashboard'));
    expect(urls).toMatchObject({
      base: 'https://app.example.com/accounts/',
      totpActivate: 'https://app.example.com/accounts/2fa/totp/activate/',
      recoveryCodes: 'https://app.example.com/accounts/2fa/recovery-codes/',
    });
  });

  it.each([
    ['https://app.example.com/id/login/', 'https://app.example.com/id/'],
    ['https://app.example.com/auth/users/login', 'https://app.example.com/auth/users/'],
    ['https://app.example.com:8443/login/', 'https://app.example.com:8443/'],
  ])('serves any mount point: %s', (loginUrl, base) => {
    expect(siteUrls(new URL(loginUrl)).base).toBe(base);
  });

  it.each([
    'https://app.example.com/',
    'https://app.example.com/accounts/',
    'https://app.example.com/accounts/signin/',
  ])('refuses %s, which is not a sign-in page, as a spec error', (loginUrl) => {
    let reason = 'no error';
    try {
      siteUrls(new URL(loginUrl));
    } catch (e: unknown) {
      if (isConnectorError(e)) reason = e.reason;
    }
    expect(reason).toBe('LoginHostNotAllowed');
  });
});

describe('pageAt (which allauth page the browser is on)', () => {
  const urls = siteUrls(new URL('https://app.example.com/accounts/login/'));

  it.each([
    ['https://app.example.com/accounts/login/', 'login'],
    ['https://app.example.com/accounts/reauthenticate/?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F', 'reauthenticate'],
    ['https://app.example.com/accounts/2fa/authenticate/', 'mfaAuthenticate'],
    ['https://app.example.com/accounts/2fa/', 'mfaIndex'],
    ['https://app.example.com/accounts/2fa/totp/deactivate', 'totpDeactivate'],
    ['https://app.example.com/accounts/2fa/recovery-codes/', 'recoveryCodes'],
  ])('%s is %s', (url, page) => {
    expect(pageAt(urls, url)).toBe(page);
  });

  it.each([
    'https://app.example.com/',
    'https://app.example.com/accounts/email/',
    'https://other.example.com/accounts/login/',
  ])("treats %s as the site's own page", (url) => {
    expect(pageAt(urls, url)).toBeUndefined();
  });
});
