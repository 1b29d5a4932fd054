import type { ElementHandle, Locator } from 'playwright-core';
import type { SecretValue } from '../../core/secrets/secret-value.ts';
import type { ConnectorContext } from './connector.ts';
import { pageLeftAllowedHosts } from './errors.ts';
import { secretInputRefusal } from './host-guard.ts';

/**
 * Type a username, password, TOTP code or recovery code, but only into a page on an allowed host.
 * Every connector fills secrets through this. The element is pinned first: if the page navigates
 * between the check and the fill, the fill fails on the detached element instead of typing into
 * the next document, and the error says where the page went.
 */
export async function fillSecret(
  ctx: ConnectorContext,
  field: Locator,
  value: string | SecretValue<string>,
  what: string,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let handle: ElementHandle | null = null;
    try {
      await refuseOffHost(ctx, null, what);
      handle = await field.elementHandle({ timeout: ctx.timeouts.actionMs });
      await refuseOffHost(ctx, handle, what);
      await handle.fill(typeof value === 'string' ? value : value.reveal(), { timeout: ctx.timeouts.actionMs });
      return;
    } catch (e: unknown) {
      await refuseOffHost(ctx, handle, what);
      // Still on an allowed host: a page that re-rendered the field gets one more try.
      if (attempt > 1 || !(e instanceof Error && /not attached/i.test(e.message))) throw e;
    } finally {
      // Releasing the handle is bookkeeping; the next step need not wait for it.
      void handle?.dispose().catch(() => undefined);
    }
  }
}

async function refuseOffHost(ctx: ConnectorContext, handle: ElementHandle | null, what: string): Promise<void> {
  const frame = handle ? await handle.ownerFrame().catch(() => null) : ctx.page.mainFrame();
  const refusal = secretInputRefusal(ctx.page, frame?.url() ?? 'about:blank');
  if (refusal) throw pageLeftAllowedHosts(refusal.host, refusal.reason, `typing the ${what}`);
}
