import type { ConnectorContext } from '../sdk/connector.ts';
import { connectorOutdated } from '../sdk/errors.ts';
import type { SecretValue } from '../sdk/core.ts';
import { DISABLE_PATH, mfaStateFromTargets, readMfaState, securityPageTargets } from './mfa-state.ts';
import { APP } from './names.ts';
import { describe, expectPage, expectVisible, formPostingTo, submitNatively, urlsOf } from './pages.ts';

/**
 * "Disable Two-Factor Authentication" on Settings → Security asks for no code and no password (a
 * confirmation dialog when the frontend bundle runs, which the native submit skips). Gitea deletes
 * the recovery key with the secret, so nothing is left that would still ask for a second factor.
 */
export async function disableTotp(ctx: ConnectorContext, _code: SecretValue<string> | undefined): Promise<void> {
  if (!(await readMfaState(ctx)).totpEnabled) {
    ctx.logger.info('the authenticator app is already off');
    return;
  }
  const form = await expectVisible(
    ctx,
    formPostingTo(ctx, DISABLE_PATH),
    'the "Disable Two-Factor Authentication" form',
  );
  const done = await submitNatively(ctx, form, 'disabling two-factor authentication');
  expectPage(done, 'security', 'Settings → Security after "Disable"');
  if (mfaStateFromTargets(urlsOf(ctx), await securityPageTargets(ctx)).totpEnabled) {
    throw connectorOutdated(
      APP,
      `the "Enroll" link after "Disable" (found the "Disable" form still there, ${describe(done)})`,
    );
  }
}
