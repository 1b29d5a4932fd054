import { ConnectorError, mfaAlreadyEnabled } from '../../connectors/sdk/errors.ts';
import { seedMetadata } from '../../connectors/sdk/totp-seed.ts';
import type { ActionResult, RunContext } from './run-context.ts';
import { withSeedSession } from './seed-session.ts';

/**
 * MFA is on already. If an earlier run stored a seed (it may have crashed between confirming and
 * reporting), signing in with a code from that seed proves the seed is the account's
 * authenticator: adopt it instead of failing.
 */
export async function adoptStoredSeed(run: RunContext): Promise<ActionResult> {
  const { connector, sink, steps } = run;
  const stored = await sink.readSeed();
  if (!stored || stored.state === 'disabled') throw mfaAlreadyEnabled(connector.displayName);
  run.scrubber.add(stored.seed.secret);
  await steps.run('verifyStoredSeed', async () => {
    // The crashed run may have confirmed with this window's code, which the app now refuses as a replay.
    await withSeedSession(run, stored.seed, async (_ctx, codes) => {
      if (!codes.asked) throw unverifiable(connector.displayName);
    }, () => storedSeedRefused(connector.displayName));
  });
  await steps.run('markConfirmed', () => sink.markConfirmed());
  return {
    outcome: 'Adopted',
    message: `MFA was already on for the ${connector.displayName} account and the stored seed verifies; adopted it.`,
    seed: seedMetadata(stored.seed),
  };
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
