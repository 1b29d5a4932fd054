import { describe, expect, it } from 'vitest';
import { reasonOf } from '../sdk/testing/reasons.ts';
import { pageAt, siteUrls } from './site-urls.ts';

describe('siteUrls (where an instance serves its pages, from the loginUrl)', () => {
  it('reads an instance at the root of its host', () => {
    expect(siteUrls(new URL('https://git.example.com/user/login?redirect_to=%2Fexplore'))).toEqual({
      base: 'https://git.example.com/',
      login: 'https://git.example.com/user/login',
      security: 'https://git.example.com/user/settings/security',
      enroll: 'https://git.example.com/user/settings/security/two_factor/enroll',
    });
  });

  it.each([
    ['https://example.com/git/user/login', 'https://example.com/git/'],
    ['https://example.com/a/b/user/login/', 'https://example.com/a/b/'],
    ['http://127.0.0.1:3000/user/login', 'http://127.0.0.1:3000/'],
  ])('serves a sub-path from ROOT_URL: %s', (loginUrl, base) => {
    expect(siteUrls(new URL(loginUrl)).base).toBe(base);
  });

  it.each([
    'https://git.example.com/',
    'https://git.example.com/user/sign_up',
    'https://git.example.com/login',
    'https://git.example.com/user/login/x',
  ])('refuses %s, which is not the sign-in page, as a spec error', async (loginUrl) => {
    expect(await reasonOf(Promise.resolve().then(() => siteUrls(new URL(loginUrl))))).toBe('LoginHostNotAllowed');
  });
});

describe('pageAt (which Gitea page the browser is on)', () => {
  const urls = siteUrls(new URL('https://example.com/git/user/login'));

  it.each([
    ['https://example.com/git/user/login?redirect_to=x', 'login'],
    ['https://example.com/git/user/two_factor', 'twoFactor'],
    ['https://example.com/git/user/two_factor/scratch', 'twoFactorScratch'],
    ['https://example.com/git/user/webauthn', 'webauthn'],
    ['https://example.com/git/user/settings/security', 'security'],
    ['https://example.com/git/user/settings/security/two_factor/enroll', 'enroll'],
    ['https://example.com/git/user/settings/change_password', 'changePassword'],
  ])('%s is %s', (url, page) => {
    expect(pageAt(urls, url)).toBe(page);
  });

  it.each([
    'https://example.com/git/',
    'https://example.com/user/login',
    'https://other.example.com/git/user/login',
    'https://example.com/git/user/settings',
  ])("%s is none of them (the instance's own page, or elsewhere)", (url) => {
    expect(pageAt(urls, url)).toBeUndefined();
  });
});
