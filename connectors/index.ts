import { ALLOWED_LOGIN_HOSTS_ENV as ALLAUTH_ALLOWED_LOGIN_HOSTS_ENV } from './allauth/allowed-hosts.ts';
import { ALLOWED_LOGIN_HOSTS_ENV as DEMO_ALLOWED_LOGIN_HOSTS_ENV } from './demo/allowed-hosts.ts';
import { ALLOWED_LOGIN_HOSTS_ENV as KEYCLOAK_ALLOWED_LOGIN_HOSTS_ENV } from './keycloak/allowed-hosts.ts';
import { ConnectorRegistry } from './sdk/registry.ts';

/** Every app the operator can automate: one folder each, one line here (see docs/connectors.md). */
export const connectors = new ConnectorRegistry({
  allauth: () => import('./allauth/index.ts'),
  demo: () => import('./demo/index.ts'),
  keycloak: () => import('./keycloak/index.ts'),
});

/**
 * Environment variables that carry the cluster admin's settings for a connector. The controller copies the
 * ones set in its own environment into that connector's run Jobs (never into other connectors' Jobs).
 */
export const connectorSettingsEnv: Readonly<Record<string, readonly string[]>> = {
  allauth: [ALLAUTH_ALLOWED_LOGIN_HOSTS_ENV],
  demo: [DEMO_ALLOWED_LOGIN_HOSTS_ENV],
  keycloak: [KEYCLOAK_ALLOWED_LOGIN_HOSTS_ENV],
};
