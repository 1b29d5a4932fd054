import { parseAllowedLoginHosts } from '../sdk/login-host.ts';

/**
 * Keycloak is self-hosted, so no host list can be fixed in the connector. The cluster admin
 * names the hosts runs may sign in to (Helm value `connectors.keycloak.allowedLoginHosts`,
 * passed to the controller and the runner Jobs as this variable); unset means none.
 * A resource's loginUrl must then be on one of them, so a namespace user cannot point the
 * browser, with credentials, at an arbitrary in-cluster address.
 */
export const ALLOWED_LOGIN_HOSTS_ENV = 'MFA_KEYCLOAK_ALLOWED_LOGIN_HOSTS';

export { parseAllowedLoginHosts };

export function allowedLoginHostsFromEnv(): string[] {
  return parseAllowedLoginHosts(process.env[ALLOWED_LOGIN_HOSTS_ENV]);
}
