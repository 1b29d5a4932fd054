import type { ConnectorContext } from '../sdk/connector.ts';
import { connectorOutdated } from '../sdk/errors.ts';
import { SecretValue } from '../sdk/core.ts';
import { readMfaState } from './mfa-state.ts';
import { APP } from './names.ts';
import { currentPage, expectPage, expectVisible, FLASH_MESSAGE, formPostingTo, submitNatively } from './pages.ts';
import { PAGE_PATHS } from './site-urls.ts';

/** Settings → Security's "Regenerate" form of the recovery key (twofa.tmpl), posting to two_factor/regenerate_scratch. */
export const REGENERATE_PATH = `${PAGE_PATHS.security}/two_factor/regenerate_scratch`;

/**
 * Gitea's single-use recovery key (its "scratch token"): 6 random bytes in base32 over an alphabet
 * without 0, O, 1 and I (models/auth/twofactor.go), so 10 characters.
 */
const RECOVERY_KEY = /(?<![A-Za-z0-9])[A-HJ-NP-Z2-9]{10}(?![A-Za-z0-9])/g;

/**
 * Gitea has one recovery key, shown once: in the success message on Settings → Security right after
 * the enrollment ("Store your single-use recovery key (...) in a safe place"). It is stored as soon
 * as it is generated, so nothing needs acknowledging. Read from that page, in whatever language.
 */
export async function readRecoveryCodes(ctx: ConnectorContext): Promise<SecretValue<readonly string[]>> {
  return keyInSuccessMessage(ctx, 'the enrollment');
}

/**
 * "Regenerate" on Settings → Security: Gitea replaces the recovery key (the old one stops working) and shows the new
 * one once, in the success message on the same page, as after the enrollment. Asks for no code or password.
 */
export async function regenerateRecoveryCodes(ctx: ConnectorContext): Promise<SecretValue<readonly string[]>> {
  if (!(await readMfaState(ctx)).totpEnabled)
    throw connectorOutdated(APP, 'the recovery key\'s "Regenerate" form (the authenticator app is off)');
  const form = await expectVisible(ctx, formPostingTo(ctx, REGENERATE_PATH), 'the recovery key\'s "Regenerate" form');
  const done = await submitNatively(ctx, form, 'regenerating the recovery key');
  expectPage(done, 'security', 'Settings → Security after "Regenerate"');
  return keyInSuccessMessage(ctx, '"Regenerate"');
}

async function keyInSuccessMessage(ctx: ConnectorContext, after: string): Promise<SecretValue<readonly string[]>> {
  if (currentPage(ctx) !== 'security') throw connectorOutdated(APP, `Settings → Security right after ${after}`);
  const messages = await ctx.page.locator(`${FLASH_MESSAGE}.flash-success`).allInnerTexts();
  const key = recoveryKeyIn(messages.join('\n'));
  if (!key) throw connectorOutdated(APP, `the single-use recovery key in the success message after ${after}`);
  return new SecretValue([key]);
}

/** The one recovery key in a message; undefined when there is none, or more than one candidate. */
export function recoveryKeyIn(message: string): string | undefined {
  const found = message.match(RECOVERY_KEY) ?? [];
  return found.length === 1 ? found[0] : undefined;
}
