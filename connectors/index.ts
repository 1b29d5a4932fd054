import { LOGIN_THEME_SELECTORS } from './keycloak/theme-selectors.ts';
import { allowedLoginHostsEnv } from './sdk/deployment-hosts.ts';
import { selectorsEnv } from './sdk/deployment-selectors.ts';
import { ConnectorRegistry } from './sdk/registry.ts';

/** Every app the operator can automate: one folder each, one line here (see docs/connectors.md). */
export const connectors = new ConnectorRegistry({
  allauth: () => import('./allauth/index.ts'),
  demo: () => import('./demo/index.ts'),
  'django-two-factor': () => import('./django-two-factor/index.ts'),
  gitea: () => import('./gitea/index.ts'),
  keycloak: () => import('./keycloak/index.ts'),
});

/**
 * Connectors whose login hosts the cluster admin sets per deployment (self-hosted apps; the demo app in a cluster)
 * (connectors/sdk/deployment-hosts.ts); each one's `allowedLoginHosts` is `deploymentLoginHosts(id)`.
 */
export const DEPLOYMENT_HOSTED: readonly string[] = ['allauth', 'demo', 'django-two-factor', 'gitea', 'keycloak'];

/**
 * Connectors whose selectors the cluster admin may override per deployment (a restyled Keycloak login
 * theme), with the element names each knows (connectors/sdk/deployment-selectors.ts).
 */
export const DEPLOYMENT_SELECTORS: Readonly<Record<string, readonly string[]>> = {
  keycloak: Object.keys(LOGIN_THEME_SELECTORS),
};

/**
 * Environment variables that carry the cluster admin's settings for a connector. The controller copies the
 * ones set in its own environment into that connector's run Jobs (never into other connectors' Jobs).
 */
export const connectorSettingsEnv: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  DEPLOYMENT_HOSTED.map((id) => [
    id,
    [allowedLoginHostsEnv(id), ...(DEPLOYMENT_SELECTORS[id] ? [selectorsEnv(id)] : [])],
  ]),
);
