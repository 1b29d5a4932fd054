import { ConnectorError, mfaAlreadyEnabled } from '../../connectors/sdk/errors.ts';
import { seedMetadata, type TotpSeed } from '../../connectors/sdk/totp-seed.ts';
import { sameSeed } from '../stores/material.ts';
import type { ActionResult, RunContext } from './run-context.ts';
import { signInSeeds, withStoredSeedsSession, type SignInSeeds } from './seed-session.ts';

/**
 * MFA is on already. If an earlier run stored a seed (it may have crashed between confirming and
 * reporting), signing in with a code from that seed proves the seed is the account's
 * authenticator: adopt it instead of failing. The store's active seed is tried too.
 */
export async function adoptStoredSeed(run: RunContext): Promise<ActionResult> {
  const { connector, steps } = run;
  const stored = await signInSeeds(run);
  if (stored.seeds.length === 0) throw mfaAlreadyEnabled(connector.displayName);
  const adopted = await steps.run('verifyStoredSeed', async () => {
    // The crashed run may have confirmed with this window's code, which the app now refuses as a replay.
    const { seed } = await withStoredSeedsSession(run, stored.seeds, async (_ctx, codes) => {
      if (!codes.asked) throw unverifiable(connector.displayName);
    }, () => storedSeedRefused(connector.displayName));
    return seed;
  });
  await markAdopted(run, stored, adopted);
  return {
    outcome: 'Adopted',
    message: `MFA was already on for the ${connector.displayName} account and the stored seed verifies; adopted it.`,
    seed: seedMetadata(adopted),
  };
}

/** Records in the run's slot which seed the app takes, so the harvest promotes that one and no other. */
export async function markAdopted(run: RunContext, stored: SignInSeeds, adopted: TotpSeed): Promise<void> {
  await run.steps.run('markConfirmed', async () => {
    if (!stored.candidate || !sameSeed(stored.candidate.seed, adopted)) await run.sink.writePendingSeed(adopted);
    await run.sink.markConfirmed();
  });
}

function storedSeedRefused(app: string): ConnectorError {
  return new ConnectorError('MfaAlreadyEnabled',
    `${app} already has an authenticator app and refused a code from the stored seed, so the account uses another ` +
    'authenticator. Disable it in the app (or import its seed into the store) and re-run.');
}

function unverifiable(app: string): ConnectorError {
  return new ConnectorError('MfaAlreadyEnabled',
    `${app} reports an authenticator app but did not ask for a code at sign-in, so the stored seed cannot be verified. ` +
    'Check the account by hand.');
}
