import { deploymentLoginHosts } from '../sdk/deployment-hosts.ts';
import type { Connector, ConnectorContext, MfaState } from '../sdk/connector.ts';
import { mfaStateOf, openSigningIn } from './account-credentials.ts';
import { disableTotp } from './disable.ts';
import { beginTotpEnrollment, confirmTotpEnrollment } from './enrollment.ts';
import { APP } from './names.ts';
import { LOGIN_PAGES } from './pages.ts';
import { acknowledgeRecoveryCodes, readRecoveryCodes } from './recovery-codes.ts';
import { signIn } from './sign-in.ts';
import { themeSecretElements } from './theme.ts';

/**
 * Automation for a self-hosted Keycloak (tested against the release in
 * test/apps/keycloak/KEYCLOAK_VERSION): signs in to a realm's account console as the user and
 * manages the user's own authenticator. spec.account.loginUrl names the realm:
 * `https://HOST/realms/REALM/account`. See docs/connectors.md.
 */
export const keycloakConnector: Connector = {
  id: 'keycloak',
  displayName: APP,
  version: '1.0.0',
  // Self-hosted: the cluster admin lists the hosts per deployment (connectors/sdk/deployment-hosts.ts).
  get allowedLoginHosts(): readonly string[] {
    return deploymentLoginHosts('keycloak');
  },
  // The theme's elements as this deployment names them (connectors/keycloak/theme.ts); read on use.
  get secretElements(): readonly string[] {
    return themeSecretElements();
  },

  login: signIn,
  readMfaState,
  beginTotpEnrollment,
  confirmTotpEnrollment,
  readRecoveryCodes,
  acknowledgeRecoveryCodes,
  disableTotp,
};

async function readMfaState(ctx: ConnectorContext): Promise<MfaState> {
  // A realm that demands an authenticator at sign-in stops there: the user has none yet.
  const pageId = await ctx.page
    .locator('body')
    .getAttribute('data-page-id')
    .catch(() => null);
  if (pageId === LOGIN_PAGES.configureTotp) return { totpEnabled: false, otherMethods: [] };
  return mfaStateOf((await openSigningIn(ctx)).types);
}
