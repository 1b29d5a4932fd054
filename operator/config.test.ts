import { describe, expect, it } from 'vitest';
import { applyLoginHostFlags, parseConfig } from './config.ts';

describe('--allowed-login-hosts', () => {
  it('sets the same variable as the chart value, per connector, over one already set', () => {
    const config = parseConfig(
      [
        '--allowed-login-hosts',
        'keycloak=SSO.example.com, *.corp.example',
        '--allowed-login-hosts',
        'allauth=app.example.com',
      ],
      {},
    );
    expect(config.allowedLoginHosts).toEqual({
      keycloak: 'sso.example.com,*.corp.example',
      allauth: 'app.example.com',
    });
    const env: NodeJS.ProcessEnv = { MFA_KEYCLOAK_ALLOWED_LOGIN_HOSTS: 'old.example.com' };
    applyLoginHostFlags(config, env);
    expect(env).toEqual({
      MFA_KEYCLOAK_ALLOWED_LOGIN_HOSTS: 'sso.example.com,*.corp.example',
      MFA_ALLAUTH_ALLOWED_LOGIN_HOSTS: 'app.example.com',
    });
  });

  it('leaves the variables alone without the flag', () => {
    const env: NodeJS.ProcessEnv = { MFA_KEYCLOAK_ALLOWED_LOGIN_HOSTS: 'sso.example.com' };
    applyLoginHostFlags(parseConfig([], {}), env);
    expect(env).toEqual({ MFA_KEYCLOAK_ALLOWED_LOGIN_HOSTS: 'sso.example.com' });
  });

  it('refuses an unknown connector, a missing id and a URL', () => {
    expect(() => parseConfig(['--allowed-login-hosts', 'nosuch=evil.example'], {})).toThrow(
      /ID one of allauth, demo, django-two-factor, gitea, keycloak/,
    );
    expect(() => parseConfig(['--allowed-login-hosts', 'sso.example.com'], {})).toThrow(/ID=HOSTS/);
    expect(() => parseConfig(['--allowed-login-hosts', 'keycloak=https://sso.example.com'], {})).toThrow(
      /without scheme or port/,
    );
  });
});

describe('connectors.<id>.selectors (MFA_<ID>_SELECTORS)', () => {
  it('accepts a map of known element names to selectors', () => {
    expect(() => parseConfig([], { MFA_KEYCLOAK_SELECTORS: '{"password":"#acme-password"}' })).not.toThrow();
  });

  it('stops the controller on a bad setting, naming the setting and what it takes', () => {
    expect(() => parseConfig([], { MFA_KEYCLOAK_SELECTORS: '{"pasword":"#p"}' })).toThrow(
      /connectors\.keycloak\.selectors \(MFA_KEYCLOAK_SELECTORS\) names an unknown element "pasword"; known: username, password/,
    );
    expect(() => parseConfig([], { MFA_KEYCLOAK_SELECTORS: '#acme-password' })).toThrow(/is not JSON/);
  });
});
