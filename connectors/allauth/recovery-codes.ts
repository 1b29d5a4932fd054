import type { ConnectorContext } from '../sdk/connector.ts';
import { connectorOutdated } from '../sdk/errors.ts';
import { SecretValue } from '../sdk/core.ts';
import { APP } from './names.ts';
import { currentPage, expectPage, expectVisible, open, urlsOf } from './pages.ts';
import { passReauthentication } from './sign-in.ts';

/** mfa/recovery_codes/index.html: the unused codes, one a line, in a read-only textarea. */
export const RECOVERY_CODES_LIST = 'textarea#recovery_codes';

/**
 * allauth generates recovery codes when the authenticator app is activated and shows them right
 * after; codes are kept as soon as they are generated, so nothing needs acknowledging. A site
 * without recovery codes (MFA_SUPPORTED_TYPES) has no such page: no codes.
 */
export async function readRecoveryCodes(ctx: ConnectorContext): Promise<SecretValue<readonly string[]>> {
  if (currentPage(ctx) !== 'recoveryCodes') {
    const opened = await open(ctx, urlsOf(ctx).recoveryCodes, 'opening the recovery codes');
    if (opened.status === 404) {
      ctx.logger.info('the site has no recovery codes (MFA_SUPPORTED_TYPES without recovery_codes)');
      return new SecretValue([]);
    }
    expectPage(await passReauthentication(ctx, opened), 'recoveryCodes', 'the "Recovery Codes" page');
  }
  const list = await expectVisible(ctx, ctx.page.locator(RECOVERY_CODES_LIST), 'the unused recovery codes');
  const codes = parseRecoveryCodes(await list.inputValue({ timeout: ctx.timeouts.actionMs }));
  if (codes.length === 0) throw connectorOutdated(APP, `recovery codes in ${RECOVERY_CODES_LIST}`);
  return new SecretValue(codes);
}

export function parseRecoveryCodes(text: string): string[] {
  return text
    .split(/\s+/)
    .map((code) => code.trim())
    .filter(Boolean);
}
