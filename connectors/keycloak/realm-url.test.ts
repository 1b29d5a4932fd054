import { describe, expect, it } from 'vitest';
import { isConnectorError } from '../sdk/errors.ts';
import { realmUrls } from './realm-url.ts';

describe('realmUrls', () => {
  it('derives the account console, Signing in page and credential API from the loginUrl', () => {
    expect(realmUrls(new URL('https://sso.example.com/realms/acme/account'))).toEqual({
      realm: 'acme',
      account: 'https://sso.example.com/realms/acme/account',
      signingIn: 'https://sso.example.com/realms/acme/account/account-security/signing-in',
      credentialsApi: 'https://sso.example.com/realms/acme/account/credentials',
    });
  });

  it('keeps a path prefix and port (older installs serve under /auth)', () => {
    const urls = realmUrls(new URL('http://127.0.0.1:8080/auth/realms/team%20a/account/#/security'));
    expect(urls.account).toBe('http://127.0.0.1:8080/auth/realms/team%20a/account');
    expect(urls.realm).toBe('team a');
  });

  it('accepts a realm URL without the account path', () => {
    expect(realmUrls(new URL('https://sso.example.com/realms/acme')).account).toBe(
      'https://sso.example.com/realms/acme/account',
    );
  });

  it.each(['https://sso.example.com/', 'https://sso.example.com/admin/master/console/'])(
    'refuses %s, which names no realm',
    (url) => {
      let reason = 'no error';
      try {
        realmUrls(new URL(url));
      } catch (e: unknown) {
        if (isConnectorError(e)) reason = e.reason;
      }
      expect(reason).toBe('LoginHostNotAllowed');
    },
  );
});
