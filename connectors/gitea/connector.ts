import { deploymentLoginHosts } from '../sdk/deployment-hosts.ts';
import type { Connector } from '../sdk/connector.ts';
import { disableTotp } from './disable.ts';
import { beginTotpEnrollment, confirmTotpEnrollment, SETUP_QR, SETUP_TEXT } from './enrollment.ts';
import { readMfaState } from './mfa-state.ts';
import { APP } from './names.ts';
import { FLASH_MESSAGE } from './pages.ts';
import { readRecoveryCodes, regenerateRecoveryCodes } from './recovery-key.ts';
import { signIn } from './sign-in.ts';

/**
 * Automation for a self-hosted Gitea instance (tested against the release pinned in
 * test/apps/gitea/GITEA_VERSION): signs in as the user and manages the user's own authenticator
 * app (TOTP) and its single-use recovery key. spec.account.loginUrl is the instance's sign-in page,
 * `https://HOST[/SUBPATH]/user/login`. See docs/connectors.md.
 */
export const giteaConnector: Connector = {
  id: 'gitea',
  displayName: APP,
  version: '1.0.0',
  // Self-hosted: the cluster admin lists the hosts per deployment (connectors/sdk/deployment-hosts.ts).
  get allowedLoginHosts(): readonly string[] {
    return deploymentLoginHosts('gitea');
  },
  // The QR image's alt text is the secret, the text under it too, and the success message holds the recovery key.
  secretElements: [
    'input[name="password"]',
    'input[name="passcode"]',
    'input[name="token"]',
    SETUP_QR,
    SETUP_TEXT,
    FLASH_MESSAGE,
  ],
  login: signIn,
  readMfaState,
  beginTotpEnrollment,
  confirmTotpEnrollment,
  readRecoveryCodes,
  regenerateRecoveryCodes,
  disableTotp,
};
