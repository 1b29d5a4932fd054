import { describe, expect, it } from 'vitest';
import {
  deploymentSelectors,
  parseSelectorOverrides,
  SelectorSettingsError,
  selectorsEnv,
} from './deployment-selectors.ts';

const DEFAULTS = { username: '#username', password: '#password', signIn: '#kc-login' } as const;
const NAMES = Object.keys(DEFAULTS);

describe('deployment selectors', () => {
  it('names one variable per connector', () => {
    expect(selectorsEnv('keycloak')).toBe('MFA_KEYCLOAK_SELECTORS');
    expect(selectorsEnv('django-two-factor')).toBe('MFA_DJANGO_TWO_FACTOR_SELECTORS');
  });

  it('overrides the named elements and keeps the defaults of the rest, read on each call', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(deploymentSelectors('keycloak', DEFAULTS, env)).toEqual(DEFAULTS);
    env.MFA_KEYCLOAK_SELECTORS = JSON.stringify({ password: ' #acme-password ', signIn: 'button[name="login"]' });
    expect(deploymentSelectors('keycloak', DEFAULTS, env)).toEqual({
      username: '#username',
      password: '#acme-password',
      signIn: 'button[name="login"]',
    });
  });

  it('treats an empty setting as none', () => {
    expect(parseSelectorOverrides('keycloak', NAMES, ' ')).toEqual({});
    expect(parseSelectorOverrides('keycloak', NAMES, '{}')).toEqual({});
  });

  it.each([
    ['not JSON', '#acme-password', /is not JSON; give a map of element name to selector/],
    ['a list', '["#a"]', /must be a map of element name to selector/],
    ['null', 'null', /must be a map/],
    ['an unknown name', '{"pasword":"#p"}', /names an unknown element "pasword"; known: username, password, signIn/],
    ['an empty selector', '{"password":"  "}', /\.password must be a selector string of 1 to 300 characters/],
    ['a number', '{"password":7}', /\.password must be a selector string/],
    ['a pasted document', JSON.stringify({ password: 'x'.repeat(301) }), /\.password must be a selector string/],
  ])('refuses %s, naming the setting', (_what, raw, message) => {
    const parse = () => parseSelectorOverrides('keycloak', NAMES, raw);
    expect(parse).toThrow(SelectorSettingsError);
    expect(parse).toThrow(/^connectors\.keycloak\.selectors \(MFA_KEYCLOAK_SELECTORS\) /);
    expect(parse).toThrow(message);
  });

  it('does not echo a long unknown name whole', () => {
    expect(() => parseSelectorOverrides('keycloak', NAMES, JSON.stringify({ ['n'.repeat(500)]: '#x' }))).toThrow(
      /unknown element "n{40}";/,
    );
  });
});
