import type { ActionResult, RunContext } from './run-context.ts';
import type { StoreSlot } from './run-code-client.ts';
import { RunnerError } from './runner-errors.ts';
import { signInSlots, withStoredSeedsSession } from './seed-session.ts';

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

/** Sign in with a code from a stored seed and check the app still reports the authenticator. */
export async function verifyStoredSeed(run: RunContext): Promise<ActionResult> {
  const { connector, steps } = run;
  const slots = await requireStoredSlots(run);
  const { value: { asked, totpEnabled }, seed } = await withStoredSeedsSession(run, slots, async (ctx, codes) => ({
    asked: codes.asked, totpEnabled: (await steps.run('readMfaState', () => connector.readMfaState(ctx))).totpEnabled,
  }));
  if (!asked || !totpEnabled) {
    throw new RunnerError('SeedNotVerified',
      `${connector.displayName} did not ask for a code at sign-in or reports no authenticator app; MFA is not on. ` +
      'Set spec.mfa.state to Enabled to turn it on again.');
  }
  return { outcome: 'Verified', message: `The stored seed opens the ${connector.displayName} account.`, ...(seed ? { seed } : {}) };
}

export async function requireStoredSlots(run: RunContext): Promise<StoreSlot[]> {
  const slots = await signInSlots(run);
  if (slots.length === 0) {
    throw new RunnerError('SeedNotFound',
      'The store holds no seed for this account, so the operator cannot sign in with a code. ' +
      'Turn MFA off in the app by hand, or restore the seed.');
  }
  return slots;
}
