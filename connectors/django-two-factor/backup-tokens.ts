import type { ConnectorContext } from '../sdk/connector.ts';
import { challengeRequired, connectorOutdated } from '../sdk/errors.ts';
import { SecretValue } from '../sdk/core.ts';
import { APP } from './names.ts';
import { clickSubmit, describe, expectPage, expectVisible, open, urlsOf } from './pages.ts';
import { PAGE_PATHS } from './site-urls.ts';

/** Lists on the Backup Tokens page (masked in failure screenshots: they hold the tokens). */
export const TOKEN_LISTS = 'ul';

/** django-otp's StaticToken.random_token(): 5 random bytes in lower-case base32, 8 characters. */
const BACKUP_TOKEN = /^[a-z2-7]{8}$/;

/**
 * The package's recovery codes are the backup tokens of the account's static device: none exist after
 * the setup until "Generate Tokens" on the Backup Tokens page makes ten (replacing any there were). So
 * the connector reads the tokens the page lists, and generates them only when it lists none; each signs
 * in once, and nothing needs acknowledging. The page needs a session verified with a second factor,
 * which the setup's confirmation (or a sign-in with a code) gives.
 */
export async function readRecoveryCodes(ctx: ConnectorContext): Promise<SecretValue<readonly string[]>> {
  const landing = await open(ctx, urlsOf(ctx).backupTokens, 'opening Backup Tokens');
  if (landing.page === 'login')
    throw challengeRequired(APP, 'a sign-in with a second factor before the backup tokens are shown');
  expectPage(landing, 'backupTokens', `Backup Tokens at ${PAGE_PATHS.backupTokens}`);
  let tokens = await listedTokens(ctx);
  if (tokens.length === 0) {
    ctx.logger.info('the account has no backup tokens yet; generating them');
    const generate = ctx.page
      .locator('form[method="post" i]:not([action]) [type="submit"], form[method="post" i][action=""] [type="submit"]')
      .first();
    const generated = await clickSubmit(
      ctx,
      await expectVisible(ctx, generate, 'the "Generate Tokens" button'),
      'generating backup tokens',
    );
    expectPage(generated, 'backupTokens', `Backup Tokens after "Generate Tokens" (found ${describe(generated)})`);
    tokens = await listedTokens(ctx);
  }
  if (tokens.length === 0)
    throw connectorOutdated(APP, 'the backup tokens listed on Backup Tokens after "Generate Tokens"');
  return new SecretValue(tokens);
}

async function listedTokens(ctx: ConnectorContext): Promise<string[]> {
  const lists = await ctx.page.locator(TOKEN_LISTS).evaluateAll((all) =>
    all.map((list) =>
      Array.from((list as unknown as { children: ArrayLike<{ tagName: string; textContent: string | null }> }).children)
        .filter((item) => item.tagName === 'LI')
        .map((item) => (item.textContent ?? '').trim()),
    ),
  );
  return backupTokensIn(lists);
}

/** The tokens of every list whose items are all backup tokens (so a site's own menus never count). */
export function backupTokensIn(lists: readonly (readonly string[])[]): string[] {
  return lists.filter((items) => items.length > 0 && items.every((item) => BACKUP_TOKEN.test(item))).flat();
}
