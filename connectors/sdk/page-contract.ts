import { errors, type Locator } from 'playwright-core';
import type { ConnectorContext } from './connector.ts';
import { connectorOutdated } from './errors.ts';

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
