import { ConnectorError } from '../sdk/errors.ts';
import { APP } from './names.ts';

/**
 * Where one site's allauth pages live. A project mounts `allauth.urls` under a prefix of its own
 * (`accounts/` in allauth's docs, `id/`, `auth/users/`, ...); the resource's loginUrl names the
 * sign-in page, `https://HOST/PREFIX/login/`, so the prefix comes from it and one connector serves
 * every site. allauth.urls puts the MFA pages under `PREFIX/2fa/`.
 */
export interface SiteUrls {
  /** Origin plus prefix, with a trailing slash: `https://app.example.com/accounts/`. */
  readonly base: string;
  readonly login: string;
  readonly mfaIndex: string;
  readonly totpActivate: string;
  readonly totpDeactivate: string;
  readonly recoveryCodes: string;
}

/** Pages the connector recognises, by their path under the prefix (allauth's URL names in comments). */
export const PAGE_PATHS = {
  login: 'login/', // account_login
  inactive: 'inactive/', // account_inactive
  reauthenticate: 'reauthenticate/', // account_reauthenticate
  loginCode: 'login/code/confirm/', // account_confirm_login_code
  emailVerification: 'confirm-email/', // account_email_verification_sent
  mfaAuthenticate: '2fa/authenticate/', // mfa_authenticate
  mfaReauthenticate: '2fa/reauthenticate/', // mfa_reauthenticate
  mfaTrust: '2fa/trust/', // mfa_trust
  mfaIndex: '2fa/', // mfa_index
  totpActivate: '2fa/totp/activate/', // mfa_activate_totp
  totpDeactivate: '2fa/totp/deactivate/', // mfa_deactivate_totp
  recoveryCodes: '2fa/recovery-codes/', // mfa_view_recovery_codes
  webauthnList: '2fa/webauthn/', // mfa_list_webauthn
} as const;

export type PageName = keyof typeof PAGE_PATHS;

const LOGIN_PATH = /^(?<prefix>\/(?:[^/]+\/)*)login\/?$/;

export function siteUrls(loginUrl: URL): SiteUrls {
  const prefix = LOGIN_PATH.exec(loginUrl.pathname)?.groups?.prefix;
  if (prefix === undefined) {
    // A spec problem, not a page change: LoginHostNotAllowed is the SDK's permanent loginUrl reason.
    throw new ConnectorError(
      'LoginHostNotAllowed',
      `The ${APP} loginUrl must be the site's sign-in page, https://HOST/PREFIX/login/ (PREFIX is where the site ` +
        'mounts allauth.urls, often accounts); fix spec.account.loginUrl.',
    );
  }
  const base = `${loginUrl.origin}${prefix}`;
  return {
    base,
    login: `${base}${PAGE_PATHS.login}`,
    mfaIndex: `${base}${PAGE_PATHS.mfaIndex}`,
    totpActivate: `${base}${PAGE_PATHS.totpActivate}`,
    totpDeactivate: `${base}${PAGE_PATHS.totpDeactivate}`,
    recoveryCodes: `${base}${PAGE_PATHS.recoveryCodes}`,
  };
}

/**
 * Which allauth page a URL is, by its path under the site's prefix; `undefined` for any other page
 * (the site's own, where a finished sign-in lands). Query strings (`?next=`) do not matter.
 */
export function pageAt(urls: SiteUrls, url: string): PageName | undefined {
  const base = new URL(urls.base);
  const at = new URL(url);
  if (at.origin !== base.origin || !at.pathname.startsWith(base.pathname)) return undefined;
  const rest = at.pathname.slice(base.pathname.length);
  const withSlash = rest.endsWith('/') ? rest : `${rest}/`;
  return (Object.keys(PAGE_PATHS) as PageName[]).find((name) => PAGE_PATHS[name] === withSlash);
}
