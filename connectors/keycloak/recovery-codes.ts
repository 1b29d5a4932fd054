import type { ConnectorContext } from '../sdk/connector.ts';
import { connectorOutdated } from '../sdk/errors.ts';
import { SecretValue } from '../sdk/core.ts';
import { credentialIds, offersSetup, openSigningIn, RECOVERY_CODES } from './account-credentials.ts';
import { APP } from './names.ts';
import { clickAndNavigate, describePage, expectLoginPage, expectVisible, LOGIN_PAGES } from './pages.ts';
import { passSignInPages } from './sign-in.ts';
import { expectThemed, themed, themeSelectors } from './theme.ts';

/**
 * Recovery codes are a credential of their own in Keycloak (the CONFIGURE_RECOVERY_AUTHN_CODES
 * required action). The account console offers them only when a flow of the realm uses the
 * "Recovery Authentication Code Form"; the page shows the codes and saves them only after
 * "I have saved these codes" + "Complete setup", which is acknowledgeRecoveryCodes, run after
 * the runner has stored them.
 */

export async function readRecoveryCodes(ctx: ConnectorContext): Promise<SecretValue<readonly string[]>> {
  const { types } = await openSigningIn(ctx);
  if (!offersSetup(types, RECOVERY_CODES)) {
    ctx.logger.info('the realm offers no recovery codes (no flow uses the Recovery Authentication Code Form)');
    return new SecretValue([]);
  }
  if (credentialIds(types, RECOVERY_CODES).length > 0) {
    // Replacing them would void codes a person may hold; the operator only stores codes it created.
    ctx.logger.warn('the account already has recovery codes; leaving them as they are');
    return new SecretValue([]);
  }
  const setUp = await expectVisible(
    ctx,
    ctx.page.getByTestId(`${RECOVERY_CODES}/create`),
    'the "Set up Recovery authentication codes" button',
  );
  const next = await clickAndNavigate(ctx, setUp, 'starting the recovery codes setup');
  const page = await passSignInPages(ctx, next, { purpose: 'stepUp', ...ctx.stepUp });
  expectLoginPage(page, LOGIN_PAGES.recoveryCodesSetup, 'the "Recovery Authentication Codes" page');
  const list = await expectThemed(ctx, 'recoveryCodes', 'the recovery codes list');
  const codes = (await list.locator('li').allInnerTexts()).map((code) => code.trim()).filter(Boolean);
  if (codes.length === 0) throw connectorOutdated(APP, `recovery codes in ${themeSelectors().recoveryCodes}`);
  return new SecretValue(codes);
}

/** Saves the shown codes on the account; nothing to do when readRecoveryCodes showed none. */
export async function acknowledgeRecoveryCodes(ctx: ConnectorContext): Promise<void> {
  const onSetupPage = await ctx.page
    .locator('body')
    .getAttribute('data-page-id')
    .catch(() => null);
  if (onSetupPage !== LOGIN_PAGES.recoveryCodesSetup) return;
  const saved = await expectThemed(ctx, 'recoveryCodesSaved', 'the "I have saved these codes" checkbox');
  await saved.check({ timeout: ctx.timeouts.actionMs });
  const next = await clickAndNavigate(ctx, themed(ctx, 'recoveryCodesSave'), 'completing the recovery codes setup');
  if (next.kind !== 'account')
    throw connectorOutdated(APP, `the account console after "Complete setup" (found ${describePage(next)})`);
}
