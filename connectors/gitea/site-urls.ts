import { ConnectorError } from '../sdk/errors.ts';
import { APP } from './names.ts';

/**
 * Where one Gitea instance's pages live. An instance may be served under a sub-path (ROOT_URL
 * `https://HOST/git/`); the resource's loginUrl names the sign-in page, `https://HOST[/SUBPATH]/user/login`,
 * so the sub-path comes from it.
 */
export interface SiteUrls {
  /** Origin plus sub-path, with a trailing slash: `https://git.example.com/` or `https://example.com/git/`. */
  readonly base: string;
  readonly login: string;
  readonly security: string;
  readonly enroll: string;
}

/** Pages the connector recognises, by their path under the sub-path (Gitea's routers/web/web.go). */
export const PAGE_PATHS = {
  login: 'user/login',
  twoFactor: 'user/two_factor',
  twoFactorScratch: 'user/two_factor/scratch',
  webauthn: 'user/webauthn',
  changePassword: 'user/settings/change_password',
  activate: 'user/activate',
  security: 'user/settings/security',
  enroll: 'user/settings/security/two_factor/enroll',
} as const;

export type PageName = keyof typeof PAGE_PATHS;

const LOGIN_PATH = /^(?<prefix>\/(?:[^/]+\/)*)user\/login\/?$/;

export function siteUrls(loginUrl: URL): SiteUrls {
  const prefix = LOGIN_PATH.exec(loginUrl.pathname)?.groups?.prefix;
  if (prefix === undefined) {
    // A spec problem, not a page change: LoginHostNotAllowed is the SDK's permanent loginUrl reason.
    throw new ConnectorError(
      'LoginHostNotAllowed',
      `The ${APP} loginUrl must be the instance's sign-in page, https://HOST/user/login (or https://HOST/SUBPATH/user/login ` +
        'when ROOT_URL has a sub-path); fix spec.account.loginUrl.',
    );
  }
  const base = `${loginUrl.origin}${prefix}`;
  return {
    base,
    login: `${base}${PAGE_PATHS.login}`,
    security: `${base}${PAGE_PATHS.security}`,
    enroll: `${base}${PAGE_PATHS.enroll}`,
  };
}

/**
 * Which Gitea page a URL is, by its path under the sub-path; `undefined` for any other page (the
 * dashboard or a repository, where a finished sign-in lands). Query strings do not matter.
 */
export function pageAt(urls: SiteUrls, url: string): PageName | undefined {
  const base = new URL(urls.base);
  const at = new URL(url);
  if (at.origin !== base.origin || !at.pathname.startsWith(base.pathname)) return undefined;
  const rest = at.pathname.slice(base.pathname.length).replace(/\/$/, '');
  return (Object.keys(PAGE_PATHS) as PageName[]).find((name) => PAGE_PATHS[name] === rest);
}
