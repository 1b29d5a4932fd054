import { loginHostNotAllowed } from './errors.ts';

/**
 * Addresses a page must never reach: cloud metadata services hand out credentials to anything
 * in the pod, and a hostile page (or a mistyped loginUrl) could make the browser ask them.
 */
const BLOCKED_HOSTNAMES = new Set(['metadata.google.internal', 'metadata.goog', '[fd00:ec2::254]', 'fd00:ec2::254']);
const LINK_LOCAL_V4 = /^169\.254\.\d{1,3}\.\d{1,3}$/;
const LINK_LOCAL_V6 = /^\[?fe[89ab][0-9a-f]:/i;

export function isBlockedHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return BLOCKED_HOSTNAMES.has(host) || LINK_LOCAL_V4.test(host) || LINK_LOCAL_V6.test(host);
}

/** `pattern` is a hostname, or `*.example.com` for any subdomain of example.com (not the apex). */
export function hostMatches(hostname: string, pattern: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  const wanted = pattern.toLowerCase();
  if (wanted.startsWith('*.')) return host.endsWith(wanted.slice(1));
  return host === wanted;
}

export function isAllowedHost(hostname: string, allowedHosts: readonly string[]): boolean {
  return !isBlockedHost(hostname) && allowedHosts.some((pattern) => hostMatches(hostname, pattern));
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
    throw loginHostNotAllowed(connector.id, httpLike ? url.hostname : `${url.protocol} URL`, connector.allowedLoginHosts);
  }
  return url;
}
