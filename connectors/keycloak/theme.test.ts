import { afterEach, describe, expect, it } from 'vitest';
import { selectorsEnv } from '../sdk/deployment-selectors.ts';
import { keycloakConnector } from './connector.ts';
import { LOGIN_THEME_SELECTORS } from './theme-selectors.ts';
import { themeSelectors } from './theme.ts';

const ENV = selectorsEnv('keycloak');

describe('Keycloak login theme selectors', () => {
  afterEach(() => {
    delete process.env[ENV];
  });

  it("uses keycloak.v2's selectors unless the deployment renames an element", () => {
    expect(themeSelectors()).toEqual(LOGIN_THEME_SELECTORS);
    process.env[ENV] = JSON.stringify({ password: '#acme-password' });
    expect(themeSelectors()).toEqual({ ...LOGIN_THEME_SELECTORS, password: '#acme-password' });
  });

  it('masks the secret elements in failure screenshots under both their default and overridden selectors', () => {
    process.env[ENV] = JSON.stringify({ password: '#acme-password', totpQr: '.acme-qr img', signIn: '#acme-go' });
    const masked = keycloakConnector.secretElements ?? [];
    expect(masked).toEqual(
      expect.arrayContaining([
        '#password',
        '#acme-password',
        '#kc-totp-secret-qr-code',
        '.acme-qr img',
        '#otp',
        '#totp',
      ]),
    );
    expect(masked, 'the hidden field that carries the secret, however the theme names it').toEqual(
      expect.arrayContaining(['input[name="totpSecret"]']),
    );
    expect(masked, 'a button is no secret').not.toContain('#acme-go');
  });
});
