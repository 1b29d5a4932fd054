import { seedMetadata } from '../../connectors/sdk/totp-seed.ts';
import type { ActionResult, RunContext } from './run-context.ts';
import { RunnerError } from './runner-errors.ts';
import { signInSeeds, withStoredSeedsSession, type SignInSeeds } from './seed-session.ts';

/**
 * Turn the authenticator app off (deletionPolicy: Disable), signing in with whichever stored seed the app takes:
 * after a partial rotation that may be the pending one rather than the active one.
 */
export async function disableTotp(run: RunContext): Promise<ActionResult> {
  const { connector, sink, steps } = run;
  const stored = await requireStoredSeeds(run);
  const { value: wasOn, seed } = await withStoredSeedsSession(run, stored.seeds, async (ctx, codes) => {
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
    seed: seedMetadata(seed),
  };
}

/** Sign in with a code from a stored seed and check the app still reports the authenticator. */
export async function verifyStoredSeed(run: RunContext): Promise<ActionResult> {
  const { connector, steps } = run;
  const stored = await requireStoredSeeds(run);
  const { value: { asked, totpEnabled }, seed } = await withStoredSeedsSession(run, stored.seeds, async (ctx, codes) => ({
    asked: codes.asked, totpEnabled: (await steps.run('readMfaState', () => connector.readMfaState(ctx))).totpEnabled,
  }));
  if (!asked || !totpEnabled) {
    throw new RunnerError('SeedNotVerified',
      `${connector.displayName} did not ask for a code at sign-in or reports no authenticator app; MFA is not on. ` +
      'Set spec.mfa.state to Enabled to turn it on again.');
  }
  return { outcome: 'Verified', message: `The stored seed opens the ${connector.displayName} account.`, seed: seedMetadata(seed) };
}

export async function requireStoredSeeds(run: RunContext): Promise<SignInSeeds> {
  const stored = await signInSeeds(run);
  if (stored.seeds.length === 0) {
    throw new RunnerError('SeedNotFound',
      'The result store holds no seed for this account, so the operator cannot sign in with a code. ' +
      'Turn MFA off in the app by hand, or restore the seed.');
  }
  return stored;
}
