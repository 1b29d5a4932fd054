import { markAdopted } from './adopt-seed.ts';
import { enableTotp } from './enable-totp.ts';
import type { ActionResult, RunContext } from './run-context.ts';
import { recoveryCodeNote, requireStoredSlots, withStoredSeedsOrRecoveryCode } from './seed-session.ts';

/**
 * A new seed for an account whose MFA is on: off with the stored seed, then on with a fresh one, in the enable
 * flow's no-lockout order. A retry first finds out which seed the app now requires: the rotation's new seed
 * (the store's pending one; a crashed attempt confirmed it) is adopted, since it is what the rotation asked for;
 * the old one means the rotation starts over; none (MFA off) means it only enables. When the app refuses every
 * stored seed, the run re-enrols after signing in with one stored recovery code.
 */
export async function rotateTotp(run: RunContext): Promise<ActionResult> {
  const { connector, steps } = run;
  const slots = await requireStoredSlots(run);
  const session = await withStoredSeedsOrRecoveryCode(run, slots, async (ctx, signedIn) => {
    const state = await steps.run('readMfaState', () => connector.readMfaState(ctx));
    if (!state.totpEnabled) return 'off' as const;
    if (signedIn.via === 'seed' && signedIn.codes.asked && signedIn.slot === 'pending') return 'newSeed' as const;
    await steps.run('disableTotp', async () =>
      connector.disableTotp(ctx, signedIn.via === 'seed' ? await signedIn.codes.totpCode() : undefined),
    );
    return 'turnedOff' as const;
  });
  if (session.value === 'newSeed') {
    await markAdopted(run, session.slot!);
    return {
      outcome: 'Adopted',
      message: `Rotated the authenticator seed: an earlier attempt had turned the new seed on for the ${connector.displayName} account; adopted it.`,
      ...(session.seed ? { seed: session.seed } : {}),
    };
  }
  await steps.run('markDisabled', () => run.sink.markDisabled());
  const enabled = await enableTotp(run);
  return { ...enabled, message: `Rotated the authenticator seed.${recoveryCodeNote(session)} ${enabled.message}` };
}
