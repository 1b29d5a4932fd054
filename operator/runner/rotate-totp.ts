import { markAdopted } from './adopt-seed.ts';
import { requireStoredSlots } from './seed-session.ts';
import { enableTotp } from './enable-totp.ts';
import type { ActionResult, RunContext } from './run-context.ts';
import { withStoredSeedsSession } from './seed-session.ts';

/**
 * A new seed for an account whose MFA is on: off with the stored seed, then on with a fresh one, in the enable
 * flow's no-lockout order. A retry first finds out which seed the app now requires: the rotation's new seed
 * (the store's pending one; a crashed attempt confirmed it) is adopted, since it is what the rotation asked for;
 * the old one means the rotation starts over; none (MFA off) means it only enables.
 */
export async function rotateTotp(run: RunContext): Promise<ActionResult> {
  const { connector, steps } = run;
  const slots = await requireStoredSlots(run);
  const {
    value: found,
    slot,
    seed,
  } = await withStoredSeedsSession(run, slots, async (ctx, codes, slot) => {
    const state = await steps.run('readMfaState', () => connector.readMfaState(ctx));
    if (!state.totpEnabled) return 'off' as const;
    if (codes.asked && slot === 'pending') return 'newSeed' as const;
    await steps.run('disableTotp', async () => connector.disableTotp(ctx, await codes.totpCode()));
    return 'turnedOff' as const;
  });
  if (found === 'newSeed') {
    await markAdopted(run, slot);
    return {
      outcome: 'Adopted',
      message: `Rotated the authenticator seed: an earlier attempt had turned the new seed on for the ${connector.displayName} account; adopted it.`,
      ...(seed ? { seed } : {}),
    };
  }
  await steps.run('markDisabled', () => run.sink.markDisabled());
  const enabled = await enableTotp(run);
  return { ...enabled, message: `Rotated the authenticator seed. ${enabled.message}` };
}
