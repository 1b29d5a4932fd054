import { ConnectorRegistry } from './sdk/registry.ts';

/** Every app the operator can automate: one folder each, one line here (see docs/connectors.md). */
export const connectors = new ConnectorRegistry({
  demo: () => import('./demo/index.ts'),
  keycloak: () => import('./keycloak/index.ts'),
});
