import { describe, expect, it } from 'vitest';
import { isConnectorError } from './errors.ts';
import { resolveLoginUrl } from './login-host.ts';

const connector = {
  id: 'acme',
  allowedLoginHosts: ['acme.example', '*.acme.example', '127.0.0.1'],
  defaultLoginUrl: 'https://acme.example/login',
};

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e: unknown) {
    if (isConnectorError(e)) return e.reason;
    throw e;
  }
  return 'no error';
}

describe('resolveLoginUrl', () => {
  it('uses the default login URL when none is given', () => {
    expect(resolveLoginUrl(connector, undefined).href).toBe('https://acme.example/login');
  });

  it('accepts allowed hosts and subdomains on any port', () => {
    expect(resolveLoginUrl(connector, 'https://eu.acme.example/x').hostname).toBe('eu.acme.example');
    expect(resolveLoginUrl(connector, 'http://127.0.0.1:8081/login').port).toBe('8081');
  });

  it.each([
    'https://evil.example/login',
    'https://acme.example.evil.example/',
    'https://notacme.example/',
    'http://169.254.169.254/latest/meta-data/',
    'http://2852039166/',
    'http://[::ffff:169.254.169.254]/',
    'http://user@evil.example/',
    'file:///etc/passwd',
    'not a url',
  ])('refuses %s with LoginHostNotAllowed', (url) => {
    expect(reasonOf(() => resolveLoginUrl(connector, url))).toBe('LoginHostNotAllowed');
  });

  it('refuses metadata addresses even when a connector lists them', () => {
    const careless = { id: 'x', allowedLoginHosts: ['169.254.169.254', 'metadata.google.internal'] };
    expect(reasonOf(() => resolveLoginUrl(careless, 'http://169.254.169.254/'))).toBe('LoginHostNotAllowed');
    expect(reasonOf(() => resolveLoginUrl(careless, 'http://metadata.google.internal/'))).toBe('LoginHostNotAllowed');
  });
});
