import type { ActionResult, RunContext } from './run-context.ts';
import { requireStoredSlots, withStoredSeedsSession } from './seed-session.ts';

/**
 * Turn the authenticator app off (deletionPolicy: Disable), signing in with whichever stored seed the app takes:
 * after a partial rotation that may be the pending one rather than the active one.
 */
export async function disableTotp(run: RunContext): Promise<ActionResult> {
  const { connector, sink, steps } = run;
  const slots = await requireStoredSlots(run);
  const { value: wasOn, seed } = await withStoredSeedsSession(run, slots, async (ctx, codes) => {
    const state = await steps.run('readMfaState', () => connector.readMfaState(ctx));
    if (!state.totpEnabled) return false;
    // A fresh code: the app refuses the sign-in code a second time within its window.
    await steps.run('disableTotp', async () => connector.disableTotp(ctx, await codes.totpCode()));
    return true;
  });
  await steps.run('markDisabled', () => sink.markDisabled());
  return {
    outcome: 'Disabled',
    message: wasOn
      ? `Authenticator-app MFA is off for the ${connector.displayName} account.`
      : `Authenticator-app MFA was already off for the ${connector.displayName} account.`,
    ...(seed ? { seed } : {}),
  };
}
