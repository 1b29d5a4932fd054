import { afterEach, describe, expect, it } from 'vitest';
import { resolveLoginUrl } from '../sdk/login-host.ts';
import { allowedLoginHostsEnv } from '../sdk/deployment-hosts.ts';
import { demoConnector } from './connector.ts';

const ALLOWED_LOGIN_HOSTS_ENV = allowedLoginHostsEnv('demo');

describe('demo connector login hosts', () => {
  afterEach(() => {
    delete process.env[ALLOWED_LOGIN_HOSTS_ENV];
  });

  it('allows loopback only when the cluster admin names no host', () => {
    expect(resolveLoginUrl(demoConnector, 'http://127.0.0.1:8081/login').hostname).toBe('127.0.0.1');
    expect(() => resolveLoginUrl(demoConnector, 'https://198.18.128.10/login')).toThrow(/not allowed/);
  });

  it('adds the hosts named in MFA_DEMO_ALLOWED_LOGIN_HOSTS, read on use', () => {
    process.env[ALLOWED_LOGIN_HOSTS_ENV] = '198.18.128.10';
    expect(resolveLoginUrl(demoConnector, 'https://198.18.128.10/login').hostname).toBe('198.18.128.10');
    expect(() => resolveLoginUrl(demoConnector, 'https://198.18.128.11/login')).toThrow(/not allowed/);
  });
});
