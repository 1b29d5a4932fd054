import { disableTotp } from './disable-totp.ts';
import { enableTotp } from './enable-totp.ts';
import type { ActionResult, RunContext } from './run-context.ts';

/**
 * A new seed for an account whose MFA is on: off with the stored seed, then on with a fresh one, in the
 * enable flow's no-lockout order. The store keeps the old seed active until the operator has the new
 * one confirmed. A re-run after a crash between the two finds MFA off (or the seed marked disabled) and
 * only enables.
 */
export async function rotateTotp(run: RunContext): Promise<ActionResult> {
  const stored = await run.sink.readSeed();
  if (stored && stored.state !== 'disabled') await disableTotp(run);
  const enabled = await enableTotp(run);
  return { ...enabled, message: `Rotated the authenticator seed. ${enabled.message}` };
}
