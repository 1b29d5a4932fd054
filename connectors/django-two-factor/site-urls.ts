import { ConnectorError } from '../sdk/errors.ts';
import { APP } from './names.ts';

/**
 * Where one site's django-two-factor-auth pages live. A project includes `two_factor.urls` under a
 * prefix of its own (the root in the package's docs), and the package puts its pages under
 * `account/`; the resource's loginUrl names the sign-in page, `https://HOST/PREFIX/account/login/`, so
 * the prefix comes from it and one connector serves every site.
 */
export interface SiteUrls {
  /** Origin plus prefix, with a trailing slash: `https://app.example.com/` or `https://app.example.com/security/`. */
  readonly base: string;
  readonly login: string;
  readonly profile: string;
  readonly setup: string;
  readonly backupTokens: string;
  readonly disable: string;
  readonly qr: string;
}

/** Pages the connector recognises, by their path under the prefix (the package's URL names in comments). */
export const PAGE_PATHS = {
  login: 'account/login/', // two_factor:login (a wizard: auth, token, backup)
  setup: 'account/two_factor/setup/', // two_factor:setup (a wizard: welcome, method, generator)
  setupComplete: 'account/two_factor/setup/complete/', // two_factor:setup_complete
  qr: 'account/two_factor/qrcode/', // two_factor:qr
  backupTokens: 'account/two_factor/backup/tokens/', // two_factor:backup_tokens
  profile: 'account/two_factor/', // two_factor:profile
  disable: 'account/two_factor/disable/', // two_factor:disable
} as const;

export type PageName = keyof typeof PAGE_PATHS;

const LOGIN_PATH = /^(?<prefix>\/(?:[^/]+\/)*)account\/login\/?$/;

export function siteUrls(loginUrl: URL): SiteUrls {
  const prefix = LOGIN_PATH.exec(loginUrl.pathname)?.groups?.prefix;
  if (prefix === undefined) {
    // A spec problem, not a page change: LoginHostNotAllowed is the SDK's permanent loginUrl reason.
    throw new ConnectorError(
      'LoginHostNotAllowed',
      `The ${APP} loginUrl must be the site's sign-in page, https://HOST/PREFIX/account/login/ (PREFIX is where the site ` +
        'includes two_factor.urls, often nothing); fix spec.account.loginUrl.',
    );
  }
  const base = `${loginUrl.origin}${prefix}`;
  return {
    base,
    login: `${base}${PAGE_PATHS.login}`,
    profile: `${base}${PAGE_PATHS.profile}`,
    setup: `${base}${PAGE_PATHS.setup}`,
    backupTokens: `${base}${PAGE_PATHS.backupTokens}`,
    disable: `${base}${PAGE_PATHS.disable}`,
    qr: `${base}${PAGE_PATHS.qr}`,
  };
}

/**
 * Which of the package's pages a URL is, by its path under the site's prefix; `undefined` for any other
 * page (the site's own, where a finished sign-in lands). Query strings (`?next=`) do not matter.
 */
export function pageAt(urls: SiteUrls, url: string): PageName | undefined {
  const base = new URL(urls.base);
  const at = new URL(url);
  if (at.origin !== base.origin || !at.pathname.startsWith(base.pathname)) return undefined;
  const rest = at.pathname.slice(base.pathname.length);
  const withSlash = rest.endsWith('/') ? rest : `${rest}/`;
  return (Object.keys(PAGE_PATHS) as PageName[]).find((name) => PAGE_PATHS[name] === withSlash);
}
