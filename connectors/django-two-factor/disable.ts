import type { ConnectorContext } from '../sdk/connector.ts';
import { challengeRequired, connectorOutdated } from '../sdk/errors.ts';
import type { SecretValue } from '../sdk/core.ts';
import { readMfaState } from './mfa-state.ts';
import { APP } from './names.ts';
import { clickSubmit, describe, expectVisible, open, urlsOf } from './pages.ts';

/** DisableForm's one field: the "Yes, I am sure" checkbox. */
const CONFIRM_FIELD = 'understand';

/**
 * "Disable Two-factor Authentication" asks for no code, only the "Yes, I am sure" box, on a session
 * verified with a second factor (the sign-in's code gives it). The package deletes every device of the
 * account, the backup tokens with them, and redirects to LOGIN_REDIRECT_URL, which is also where it
 * sends a session it will not let disable; so the state is read again afterwards.
 */
export async function disableTotp(ctx: ConnectorContext, _code: SecretValue<string> | undefined): Promise<void> {
  if (!(await readMfaState(ctx)).totpEnabled) {
    ctx.logger.info('two-factor authentication is already off');
    return;
  }
  const landing = await open(ctx, urlsOf(ctx).disable, 'opening "Disable Two-factor Authentication"');
  if (landing.page !== 'disable') {
    throw challengeRequired(
      APP,
      `a session verified with a second factor before disabling (found ${describe(landing)})`,
    );
  }
  const confirm = await expectVisible(
    ctx,
    ctx.page.locator(`form input[type="checkbox"][name="${CONFIRM_FIELD}"]`).first(),
    'the "Yes, I am sure" box',
  );
  await confirm.check({ timeout: ctx.timeouts.actionMs });
  const button = ctx.page.locator(`form:has(input[name="${CONFIRM_FIELD}"]) [type="submit"]`).first();
  await clickSubmit(
    ctx,
    await expectVisible(ctx, button, 'the "Disable" button'),
    'disabling two-factor authentication',
  );
  if ((await readMfaState(ctx)).totpEnabled) {
    throw connectorOutdated(
      APP,
      'the "Enable Two-Factor Authentication" link after "Disable" (found the "Disable" link still there)',
    );
  }
}
