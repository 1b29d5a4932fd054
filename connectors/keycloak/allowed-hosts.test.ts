import { describe, expect, it } from 'vitest';
import { resolveLoginUrl } from '../sdk/login-host.ts';
import { parseAllowedLoginHosts } from './allowed-hosts.ts';

describe('allowed Keycloak hosts from the operator configuration', () => {
  it('splits on commas and spaces and ignores case', () => {
    expect(parseAllowedLoginHosts(' SSO.example.com, *.corp.example\tid.example ')).toEqual(['sso.example.com', '*.corp.example', 'id.example']);
  });

  it('allows nothing when unset, so a self-hosted login URL must be listed first', () => {
    const connector = { id: 'keycloak', allowedLoginHosts: parseAllowedLoginHosts(undefined) };
    expect(() => resolveLoginUrl(connector, 'https://sso.example.com/realms/acme/account')).toThrow(/not allowed/);
  });

  it('lets listed hosts through', () => {
    const connector = { id: 'keycloak', allowedLoginHosts: parseAllowedLoginHosts('sso.example.com') };
    expect(resolveLoginUrl(connector, 'https://sso.example.com/realms/acme/account').hostname).toBe('sso.example.com');
  });
});
