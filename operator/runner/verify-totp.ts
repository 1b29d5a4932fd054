import type { ActionResult, RunContext } from './run-context.ts';
import { RunnerError } from './runner-errors.ts';
import { requireStoredSlots, withStoredSeedsSession } from './seed-session.ts';

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
