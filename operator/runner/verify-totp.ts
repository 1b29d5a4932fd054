import type { MfaState } from '../../connectors/sdk/connector.ts';
import { markAdopted } from './adopt-seed.ts';
import type { ActionResult, RunContext } from './run-context.ts';
import { RunnerError } from './runner-errors.ts';
import { requireStoredSlots, withStoredSeedsSession } from './seed-session.ts';

/**
 * spec.mfa.verify: sign in with a code from a stored seed and read the MFA methods, changing nothing on the app. What
 * drifted is the failure's reason (the controller's verify-outcome.ts maps it): no code asked for or no authenticator
 * reported is MfaTurnedOff, codes from every stored seed refused in two windows is SeedRejected, and another method or a
 * second authenticator app is OtherMfaMethodAdded. When the app took the pending slot's code, that seed is the account's:
 * the run records it, and the harvest promotes it, as a rotation's adoption does.
 */
export async function verifyStoredSeed(run: RunContext): Promise<ActionResult> {
  const { connector, steps } = run;
  const app = connector.displayName;
  const slots = await requireStoredSlots(run);
  const {
    value: { asked, state },
    slot,
    seed,
  } = await withStoredSeedsSession(
    run,
    slots,
    async (ctx, codes) => ({
      asked: codes.asked,
      state: await steps.run('readMfaState', () => connector.readMfaState(ctx)),
    }),
    () =>
      new RunnerError(
        'SeedRejected',
        `${app} refused codes from every stored seed in two time windows: the account has an authenticator the operator does not hold.`,
      ),
  );
  if (!asked || !state.totpEnabled) {
    throw new RunnerError(
      'MfaTurnedOff',
      `${app} ${asked ? 'reports no authenticator app' : 'did not ask for a code at sign-in'}: MFA was turned off on the app.`,
    );
  }
  const others = otherMethodsOf(state);
  if (others.length > 0)
    throw new RunnerError(
      'OtherMfaMethodAdded',
      `${app} reports another sign-in method besides the operator's authenticator: ${others.join(', ')}.`,
    );
  if (slot === 'pending') await markAdopted(run, slot);
  return {
    outcome: 'Verified',
    message: `The stored seed opens the ${app} account, and MFA has no other method.`,
    ...(seed ? { seed } : {}),
  };
}

/** Other methods the app reports, and authenticator apps beyond the operator's one. */
function otherMethodsOf(state: MfaState): string[] {
  const extra = (state.totpAuthenticators ?? 1) - 1;
  return [...state.otherMethods, ...(extra > 0 ? [`${extra} more authenticator app${extra > 1 ? 's' : ''}`] : [])];
}
