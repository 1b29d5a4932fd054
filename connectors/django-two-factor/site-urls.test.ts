import { describe, expect, it } from 'vitest';
import { reasonOf } from '../sdk/testing/reasons.ts';
import { pageAt, siteUrls } from './site-urls.ts';

describe('siteUrls (where a site includes two_factor.urls, from the loginUrl)', () => {
  it("reads the package's usual mount at the root", () => {
    expect(siteUrls(new URL('https://app.example.com/account/login/?next=/dashboard'))).toEqual({
      base: 'https://app.example.com/',
      login: 'https://app.example.com/account/login/',
      profile: 'https://app.example.com/account/two_factor/',
      setup: 'https://app.example.com/account/two_factor/setup/',
      backupTokens: 'https://app.example.com/account/two_factor/backup/tokens/',
      disable: 'https://app.example.com/account/two_factor/disable/',
      qr: 'https://app.example.com/account/two_factor/qrcode/',
    });
  });

  it.each([
    ['https://app.example.com/security/account/login/', 'https://app.example.com/security/'],
    ['https://app.example.com/a/b/account/login', 'https://app.example.com/a/b/'],
    ['http://127.0.0.1:8000/account/login/', 'http://127.0.0.1:8000/'],
  ])('serves any mount point: %s', (loginUrl, base) => {
    expect(siteUrls(new URL(loginUrl)).base).toBe(base);
  });

  it.each([
    'https://app.example.com/',
    'https://app.example.com/accounts/login/',
    'https://app.example.com/account/two_factor/',
  ])('refuses %s, which is not the sign-in page, as a spec error', async (loginUrl) => {
    expect(await reasonOf(Promise.resolve().then(() => siteUrls(new URL(loginUrl))))).toBe('LoginHostNotAllowed');
  });
});

describe("pageAt (which of the package's pages the browser is on)", () => {
  const urls = siteUrls(new URL('https://app.example.com/security/account/login/'));

  it.each([
    ['https://app.example.com/security/account/login/?next=%2F', 'login'],
    ['https://app.example.com/security/account/two_factor/', 'profile'],
    ['https://app.example.com/security/account/two_factor/setup/', 'setup'],
    ['https://app.example.com/security/account/two_factor/setup/complete', 'setupComplete'],
    ['https://app.example.com/security/account/two_factor/backup/tokens/', 'backupTokens'],
    ['https://app.example.com/security/account/two_factor/disable/', 'disable'],
  ])('%s is %s', (url, page) => {
    expect(pageAt(urls, url)).toBe(page);
  });

  it.each([
    'https://app.example.com/security/',
    'https://app.example.com/account/login/',
    'https://other.example.com/security/account/login/',
  ])("%s is none of them (the site's own page, or elsewhere)", (url) => {
    expect(pageAt(urls, url)).toBeUndefined();
  });
});
