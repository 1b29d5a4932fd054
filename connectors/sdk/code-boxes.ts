import type { Locator } from 'playwright-core';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import type { ConnectorContext } from './connector.ts';
import { connectorOutdated } from './errors.ts';
import { fillSecret } from './secret-input.ts';

/**
 * Type a code into a row of one-digit boxes (`<input maxlength="1">` each), one digit a box,
 * through fillSecret. `boxes` matches every box of the row, in order. The box count must equal the
 * code's length: fewer boxes than digits would submit a cut code (the app refuses it, the run
 * retries and burns a window), more would leave boxes empty; either means the page is not the one
 * the connector was written for, so nothing is typed and the run stops with ConnectorOutdated.
 * The error says the counts, never a digit.
 */
export async function fillCodeBoxes(
  ctx: ConnectorContext,
  boxes: Locator,
  code: SecretValue<string>,
  what: string,
  app: string,
): Promise<void> {
  const digits = [...code.reveal()];
  const count = await boxes.count();
  if (count !== digits.length) {
    throw connectorOutdated(app, `${digits.length} one-digit boxes for the ${what} (found ${count})`);
  }
  for (const [i, digit] of digits.entries()) {
    await fillSecret(ctx, boxes.nth(i), new SecretValue(digit), `${what} (box ${i + 1} of ${count})`);
  }
}
