/**
 * Sites built on django-allauth are self-hosted, so no host list can be fixed in the connector.
 * The cluster admin names the hosts runs may sign in to (Helm value `connectors.allauth.allowedLoginHosts`,
 * passed to the controller and the allauth run Jobs as this variable); unset means none. A resource's
 * loginUrl must then be on one of them, so a namespace user cannot point the browser, with
 * credentials, at an arbitrary in-cluster address.
 */
export const ALLOWED_LOGIN_HOSTS_ENV = 'MFA_ALLAUTH_ALLOWED_LOGIN_HOSTS';

/** Comma- or space-separated host patterns (`app.example.com`, `*.example.com`), without scheme or port. */
export function parseAllowedLoginHosts(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).map((host) => host.trim().toLowerCase()).filter((host) => host !== '');
}

export function allowedLoginHostsFromEnv(): string[] {
  return parseAllowedLoginHosts(process.env[ALLOWED_LOGIN_HOSTS_ENV]);
}
