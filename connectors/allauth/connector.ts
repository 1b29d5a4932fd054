import type { Connector } from '../sdk/connector.ts';
import { allowedLoginHostsFromEnv } from './allowed-hosts.ts';
import { disableTotp } from './disable.ts';
import { beginTotpEnrollment, confirmTotpEnrollment, SETUP_KEY, SETUP_QR } from './enrollment.ts';
import { readMfaState } from './mfa-state.ts';
import { APP } from './names.ts';
import { readRecoveryCodes, RECOVERY_CODES_LIST } from './recovery-codes.ts';
import { signIn } from './sign-in.ts';

/**
 * Automation for any Django site that uses django-allauth's MFA pages (tested against the release
 * pinned in test/apps/allauth/requirements.txt): signs in as the user and manages the user's own
 * authenticator app. spec.account.loginUrl is the site's sign-in page, `https://HOST/PREFIX/login/`,
 * which also says where the site mounts allauth's URLs. See docs/connectors.md.
 */
export const allauthConnector: Connector = {
  id: 'allauth',
  displayName: APP,
  version: '1.0.0',
  // Self-hosted: the cluster admin lists the hosts (see allowed-hosts.ts); read on use, not at import.
  get allowedLoginHosts(): readonly string[] {
    return allowedLoginHostsFromEnv();
  },
  // The QR image's alt text is the secret too, so the image is painted over with the field.
  secretElements: ['input[name="password"]', 'input[name="code"]', SETUP_KEY, SETUP_QR, RECOVERY_CODES_LIST],
  login: signIn,
  readMfaState,
  beginTotpEnrollment,
  confirmTotpEnrollment,
  readRecoveryCodes,
  disableTotp,
};
