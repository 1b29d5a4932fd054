import { errors, type Locator } from 'playwright-core';
import type { SecretValue } from '../../core/secrets/secret-value.ts';
import type { ConnectorContext } from './connector.ts';
import { connectorOutdated } from './errors.ts';
import { fillSecret } from './secret-input.ts';

/** An element the app's page contract promises; missing means the app changed under the connector. */
export async function expectVisible(
  ctx: ConnectorContext,
  element: Locator,
  name: string,
  app: string,
): Promise<Locator> {
  try {
    await element.waitFor({ state: 'visible', timeout: ctx.timeouts.actionMs });
    return element;
  } catch (e: unknown) {
    if (e instanceof errors.TimeoutError) throw connectorOutdated(app, name, e);
    throw e;
  }
}

/** fillSecret into a field the page contract promises; the wait for it goes with the pinning (AppPages.fillPromised). */
export async function fillPromised(
  ctx: ConnectorContext,
  field: Locator,
  name: string,
  value: string | SecretValue<string>,
  what: string,
  app: string,
): Promise<void> {
  await fillSecret(ctx, field, value, what, expectVisible(ctx, field, name, app));
}

/** The trimmed texts of `items` in a container the page contract promises (AppPages.promisedTexts). */
export async function promisedTexts(
  ctx: ConnectorContext,
  container: Locator,
  items: Locator,
  name: string,
  app: string,
): Promise<string[]> {
  const [, early] = await Promise.all([expectVisible(ctx, container, name, app), items.allInnerTexts()]);
  const texts = early.length > 0 ? early : await items.allInnerTexts();
  return texts.map((text) => text.trim());
}
