import { afterEach, describe, expect, it } from 'vitest';
import { connectors, connectorSettingsEnv, DEPLOYMENT_HOSTED } from '../index.ts';
import { allowedLoginHostsEnv, deploymentLoginHosts, parseAllowedLoginHosts } from './deployment-hosts.ts';
import { resolveLoginUrl } from './login-host.ts';

describe('login hosts per deployment', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const id of connectors.ids()) {
      const name = allowedLoginHostsEnv(id);
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('names one variable per connector id', () => {
    expect(allowedLoginHostsEnv('keycloak')).toBe('MFA_KEYCLOAK_ALLOWED_LOGIN_HOSTS');
    expect(allowedLoginHostsEnv('my-app')).toBe('MFA_MY_APP_ALLOWED_LOGIN_HOSTS');
  });

  it('splits on commas and spaces and ignores case', () => {
    expect(parseAllowedLoginHosts(' SSO.example.com, *.corp.example\tid.example ')).toEqual([
      'sso.example.com',
      '*.corp.example',
      'id.example',
    ]);
  });

  it('allows nothing when unset, so a self-hosted login URL must be listed first', () => {
    const connector = { id: 'acme', allowedLoginHosts: deploymentLoginHosts('acme', {}) };
    expect(() => resolveLoginUrl(connector, 'https://sso.example.com/realms/acme/account')).toThrow(/not allowed/);
  });

  it('gives every self-hosted connector its own setting, read on use, and copies only that into its Jobs', async () => {
    expect(DEPLOYMENT_HOSTED).toEqual(['allauth', 'demo', 'django-two-factor', 'gitea', 'keycloak']);
    for (const id of DEPLOYMENT_HOSTED) {
      const connector = await connectors.load(id);
      // The demo app is on loopback unless it runs in a cluster; the others have no host of their own.
      const own = id === 'demo' ? ['127.0.0.1', 'localhost'] : [];
      delete process.env[allowedLoginHostsEnv(id)];
      expect(connector.allowedLoginHosts).toEqual(own);
      process.env[allowedLoginHostsEnv(id)] = `${id}.example.com,*.${id}.example`;
      expect(connector.allowedLoginHosts).toEqual([...own, `${id}.example.com`, `*.${id}.example`]);
      expect(resolveLoginUrl(connector, `https://${id}.example.com/login`).hostname).toBe(`${id}.example.com`);
      expect(() => resolveLoginUrl(connector, 'https://elsewhere.example/login')).toThrow(/not allowed/);
      // A family connector whose pages a deployment restyles also takes its selectors (deployment-selectors.ts).
      const selectors = id === 'keycloak' ? ['MFA_KEYCLOAK_SELECTORS'] : [];
      expect(connectorSettingsEnv[id]).toEqual([allowedLoginHostsEnv(id), ...selectors]);
      delete process.env[allowedLoginHostsEnv(id)];
    }
  });
});
