import { checkHost } from './destination.ts';
import { loginHostNotAllowed } from './errors.ts';

/**
 * On the allow-list, and not an address a page must never reach (link-local, cloud metadata,
 * unspecified, loopback unless the list names a loopback host); see destination.ts.
 */
export function isAllowedHost(hostname: string, allowedHosts: readonly string[]): boolean {
  return checkHost(hostname, allowedHosts) === undefined;
}

/**
 * The login URL a run will open: the resource's override or the connector's default, http(s)
 * only, on an allowed host. Checked before the browser starts so a bad spec costs nothing.
 */
export function resolveLoginUrl(
  connector: { id: string; allowedLoginHosts: readonly string[]; defaultLoginUrl?: string },
  loginUrl: string | undefined,
): URL {
  const raw = loginUrl ?? connector.defaultLoginUrl;
  let url: URL;
  try {
    url = new URL(raw ?? '');
  } catch {
    throw loginHostNotAllowed(connector.id, raw ? '(unparseable URL)' : '(none given)', connector.allowedLoginHosts);
  }
  const httpLike = url.protocol === 'https:' || url.protocol === 'http:';
  if (!httpLike || !isAllowedHost(url.hostname, connector.allowedLoginHosts)) {
    throw loginHostNotAllowed(
      connector.id,
      httpLike ? url.hostname : `${url.protocol} URL`,
      connector.allowedLoginHosts,
    );
  }
  return url;
}
