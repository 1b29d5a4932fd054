import { describe, expect, it } from 'vitest';
import { resolveLoginUrl } from '../sdk/login-host.ts';
import { parseAllowedLoginHosts } from './allowed-hosts.ts';

describe('allowed allauth site hosts from the operator configuration', () => {
  it('splits on commas and spaces and ignores case', () => {
    expect(parseAllowedLoginHosts(' App.example.com, *.corp.example\tshop.example ')).toEqual(['app.example.com', '*.corp.example', 'shop.example']);
  });

  it('allows nothing when unset, so a site must be listed first', () => {
    const connector = { id: 'allauth', allowedLoginHosts: parseAllowedLoginHosts(undefined) };
    expect(() => resolveLoginUrl(connector, 'https://app.example.com/accounts/login/')).toThrow(/not allowed/);
  });

  it('lets listed hosts through', () => {
    const connector = { id: 'allauth', allowedLoginHosts: parseAllowedLoginHosts('*.example.com') };
    expect(resolveLoginUrl(connector, 'https://app.example.com/accounts/login/').hostname).toBe('app.example.com');
  });
});
