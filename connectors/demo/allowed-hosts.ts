import { parseAllowedLoginHosts } from '../sdk/login-host.ts';

/**
 * The demo app listens on loopback unless it runs in a cluster (the end-to-end tests serve it from a pod behind a
 * Service). There the cluster admin names its host with this variable, passed to the controller and copied into
 * the demo connector's run Jobs like every connector setting (connectors/index.ts); unset means loopback only.
 */
export const ALLOWED_LOGIN_HOSTS_ENV = 'MFA_DEMO_ALLOWED_LOGIN_HOSTS';

export function allowedLoginHostsFromEnv(): string[] {
  return parseAllowedLoginHosts(process.env[ALLOWED_LOGIN_HOSTS_ENV]);
}
