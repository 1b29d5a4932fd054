import { deploymentLoginHosts } from '../sdk/deployment-hosts.ts';
import type { Connector } from '../sdk/connector.ts';
import { readRecoveryCodes, TOKEN_LISTS } from './backup-tokens.ts';
import { disableTotp } from './disable.ts';
import { beginTotpEnrollment, confirmTotpEnrollment, SETUP_KEY, SETUP_QR } from './enrollment.ts';
import { readMfaState } from './mfa-state.ts';
import { APP } from './names.ts';
import { signIn } from './sign-in.ts';

/**
 * Automation for any Django site that uses django-two-factor-auth's views (tested against the release
 * pinned in test/apps/django-two-factor/requirements.txt): signs in as the user and manages the user's
 * own authenticator app (the "token generator") and backup tokens. spec.account.loginUrl is the site's
 * sign-in page, `https://HOST/PREFIX/account/login/`. See docs/connectors.md.
 */
export const djangoTwoFactorConnector: Connector = {
  id: 'django-two-factor',
  displayName: APP,
  version: '1.0.0',
  // Self-hosted: the cluster admin lists the hosts per deployment (connectors/sdk/deployment-hosts.ts).
  get allowedLoginHosts(): readonly string[] {
    return deploymentLoginHosts('django-two-factor');
  },
  // The key is a link whose text and target hold the secret; the QR image too; the token lists hold the backup tokens.
  secretElements: [
    'input[name="auth-password"]',
    'input[name$="otp_token"]',
    'input[name="generator-token"]',
    SETUP_KEY,
    SETUP_QR,
    TOKEN_LISTS,
  ],
  login: signIn,
  readMfaState,
  beginTotpEnrollment,
  confirmTotpEnrollment,
  readRecoveryCodes,
  disableTotp,
};
