import { connectorOutdated, sinkUnavailable } from '../../connectors/sdk/errors.ts';
import { markAdopted } from './adopt-seed.ts';
import type { ActionResult, RunContext } from './run-context.ts';
import { RunnerError } from './runner-errors.ts';
import { requireStoredSlots, withStoredSeedsSession } from './seed-session.ts';

/**
 * A new set of recovery codes for an enrolled account: sign in with a code from a stored seed, have the app issue the
 * set (which ends the old one on the app), and store it before anything else, since the app shows it once. A connector
 * that cannot regenerate is refused before anything is asked of the code service or the app.
 */
export async function regenerateRecoveryCodes(run: RunContext): Promise<ActionResult> {
  const { connector, steps } = run;
  const app = connector.displayName;
  const regenerate = connector.regenerateRecoveryCodes?.bind(connector);
  if (!regenerate)
    throw new RunnerError(
      'RecoveryCodesRegenerationUnsupported',
      `The ${connector.id} connector cannot regenerate recovery codes on ${app}; nothing was signed in or changed. ` +
        'Rotate the seed (annotation mfa-operator.io/rotate) for a new set, or regenerate them on the app by hand.',
    );
  const slots = await requireStoredSlots(run);
  const { value: count, slot } = await withStoredSeedsSession(run, slots, async (ctx, codes) => {
    if (!codes.asked)
      throw new RunnerError(
        'MfaTurnedOff',
        `${app} did not ask for a code at sign-in: MFA is off on the app, so it has no recovery codes to regenerate.`,
      );
    const fresh = await steps.run('regenerateRecoveryCodes', async () => {
      const issued = await regenerate(ctx);
      run.scrubber.add(issued);
      // Stored, an empty set would replace the old one with nothing: the connector did not find the new codes.
      if (issued.reveal().length === 0) throw connectorOutdated(app, 'the new recovery codes after regenerating');
      return issued;
    });
    // The app has dropped the old set already: the new one is stored at once, and only this write is at risk.
    await steps.run('storeRecoveryCodes', () =>
      run.sink.writeRecoveryCodes(fresh).catch((e: unknown) => {
        throw sinkUnavailable(
          'the new recovery codes',
          'the app replaced its set, so the stored codes no longer work; a re-run regenerates another set',
          e,
        );
      }),
    );
    return fresh.reveal().length;
  });
  // The app took the pending slot's code (a rotation left that seed on the app): it is the account's seed now.
  if (slot === 'pending') await markAdopted(run, slot);
  return {
    outcome: 'RecoveryCodesRegenerated',
    message: `${app} issued ${count} new recovery codes, which are stored; the old set no longer works on the app.`,
    recoveryCodeCount: count,
  };
}
