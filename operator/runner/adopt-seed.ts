import { ConnectorError, mfaAlreadyEnabled } from '../../connectors/sdk/errors.ts';
import type { ActionResult, RunContext } from './run-context.ts';
import { signInSlots, withStoredSeedsSession } from './seed-session.ts';
import type { SeedSlot } from '../stores/seed-slots.ts';

/**
 * MFA is on already. If an earlier run stored a seed (it may have crashed between confirming and
 * reporting), signing in with a code from that seed proves the seed is the account's
 * authenticator: adopt it instead of failing. The store's active seed is tried too.
 */
export async function adoptStoredSeed(run: RunContext): Promise<ActionResult> {
  const { connector, steps } = run;
  const slots = await signInSlots(run);
  if (slots.length === 0) throw mfaAlreadyEnabled(connector.displayName);
  const adopted = await steps.run('verifyStoredSeed', async () => {
    // The crashed run may have confirmed with this window's code, which the app now refuses as a replay.
    const session = await withStoredSeedsSession(
      run,
      slots,
      async (_ctx, codes) => {
        if (!codes.asked) throw unverifiable(connector.displayName);
      },
      () => storedSeedRefused(connector.displayName),
    );
    return session;
  });
  await markAdopted(run, adopted.slot);
  return {
    outcome: 'Adopted',
    message: `MFA was already on for the ${connector.displayName} account and the stored seed verifies; adopted it.`,
    ...(adopted.seed ? { seed: adopted.seed } : {}),
  };
}

/** Records which store slot the app takes, so the harvest promotes that one and no other. */
export async function markAdopted(run: RunContext, slot: SeedSlot): Promise<void> {
  await run.steps.run('markConfirmed', () => run.sink.markAdopted(slot));
}

function storedSeedRefused(app: string): ConnectorError {
  return new ConnectorError(
    'MfaAlreadyEnabled',
    `${app} already has an authenticator app and refused a code from the stored seed, so the account uses another ` +
      'authenticator. Disable it in the app (or import its seed into the store) and re-run.',
  );
}

function unverifiable(app: string): ConnectorError {
  return new ConnectorError(
    'MfaAlreadyEnabled',
    `${app} reports an authenticator app but did not ask for a code at sign-in, so the stored seed cannot be verified. ` +
      'Check the account by hand.',
  );
}
