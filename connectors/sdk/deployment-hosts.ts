/**
 * Login hosts per deployment, for connectors of self-hosted apps (Keycloak, django-allauth sites):
 * no host list can be fixed in the connector, so the cluster admin names the hosts runs may sign in
 * to, one setting per connector: the Helm value `connectors.<id>.allowedLoginHosts`, or the
 * controller flag `--allowed-login-hosts <id>=<hosts>`, both become the variable
 * `MFA_<ID>_ALLOWED_LOGIN_HOSTS`, which the controller copies into that connector's run Jobs only
 * (connectors/index.ts lists the connectors that read it). Unset means no host: a resource's
 * loginUrl must be on one of the listed hosts, so a namespace user cannot point the browser, with
 * credentials, at an arbitrary in-cluster address. See docs/connectors.md.
 */

/** `keycloak` → `MFA_KEYCLOAK_ALLOWED_LOGIN_HOSTS`; a `-` in an id becomes `_`. */
export function allowedLoginHostsEnv(connectorId: string): string {
  return `MFA_${connectorId.toUpperCase().replace(/-/g, '_')}_ALLOWED_LOGIN_HOSTS`;
}

/** Comma- or space-separated host patterns (`sso.example.com`, `*.example.com`), without scheme or port. */
export function parseAllowedLoginHosts(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[\s,]+/)
    .map((host) => host.trim().toLowerCase())
    .filter((host) => host !== '');
}

/**
 * The hosts this deployment allows for a connector; a connector's `allowedLoginHosts` getter
 * returns it, read on use (not at import) so a changed setting applies to the next run.
 */
export function deploymentLoginHosts(connectorId: string, env: NodeJS.ProcessEnv = process.env): string[] {
  return parseAllowedLoginHosts(env[allowedLoginHostsEnv(connectorId)]);
}
