import type { ActionResult, RunContext } from './run-context.ts';
import { recoveryCodeNote, requireStoredSlots, withStoredSeedsOrRecoveryCode } from './seed-session.ts';

/**
 * Turn the authenticator app off (deletionPolicy: Disable), signing in with whichever stored seed the app takes:
 * after a partial rotation that may be the pending one rather than the active one. When the app refuses them all,
 * with one stored recovery code (then the app's turn-off form gets no authenticator code).
 */
export async function disableTotp(run: RunContext): Promise<ActionResult> {
  const { connector, sink, steps } = run;
  const slots = await requireStoredSlots(run);
  const session = await withStoredSeedsOrRecoveryCode(run, slots, async (ctx, signedIn) => {
    const state = await steps.run('readMfaState', () => connector.readMfaState(ctx));
    if (!state.totpEnabled) return false;
    // A fresh code: the app refuses the sign-in code a second time within its window.
    await steps.run('disableTotp', async () =>
      connector.disableTotp(ctx, signedIn.via === 'seed' ? await signedIn.codes.totpCode() : undefined),
    );
    return true;
  });
  await steps.run('markDisabled', () => sink.markDisabled());
  const message = session.value
    ? `Authenticator-app MFA is off for the ${connector.displayName} account.`
    : `Authenticator-app MFA was already off for the ${connector.displayName} account.`;
  return {
    outcome: 'Disabled',
    message: message + recoveryCodeNote(session),
    ...(session.seed ? { seed: session.seed } : {}),
  };
}
