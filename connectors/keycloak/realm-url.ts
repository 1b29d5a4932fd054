import { ConnectorError } from '../sdk/errors.ts';
import { APP } from './names.ts';

/**
 * Where one Keycloak realm's pages live, derived from the loginUrl
 * (`https://sso.example.com/realms/<realm>/account`, or with a `/auth` prefix on old installs).
 */
export interface RealmUrls {
  readonly realm: string;
  /** The account console root: login starts here. */
  readonly account: string;
  /** The account console's "Signing in" page, where credentials are listed, added and deleted. */
  readonly signingIn: string;
  /** The account REST API's credential list that the "Signing in" page loads. */
  readonly credentialsApi: string;
}

const REALM_PATH = /^(?<prefix>(?:\/[^/]+)*?)\/realms\/(?<realm>[^/]+)(?:\/|$)/;

export function realmUrls(loginUrl: URL): RealmUrls {
  const match = REALM_PATH.exec(loginUrl.pathname);
  const realm = match?.groups?.realm;
  if (!match || !realm) {
    // A spec problem, not a page change: LoginHostNotAllowed is the SDK's permanent loginUrl reason.
    throw new ConnectorError(
      'LoginHostNotAllowed',
      `The ${APP} loginUrl must name a realm (https://HOST/realms/REALM/account); fix spec.account.loginUrl.`,
    );
  }
  const base = `${loginUrl.origin}${match.groups?.prefix ?? ''}/realms/${realm}`;
  return {
    realm: decodeURIComponent(realm),
    account: `${base}/account`,
    signingIn: `${base}/account/account-security/signing-in`,
    credentialsApi: `${base}/account/credentials`,
  };
}
