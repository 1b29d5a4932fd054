import { ConnectorError, mfaAlreadyEnabled } from '../../connectors/sdk/errors.ts';
import type { ActionResult, RunContext } from './run-context.ts';
import { RunnerError } from './runner-errors.ts';
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

/**
 * spec.mfa.adoptFrom: the operator wrote the seed of an authenticator already on for the account (a person's phone) to
 * the store's pending slot. Sign in with a code from that slot only, read the MFA state, and report the slot adopted
 * when the app took the code and reports an authenticator, so the harvest promotes it. Nothing on the app changes: a
 * refused code, or MFA found off, fails the run and the harvest stores nothing.
 */
export async function adoptSourceSeed(run: RunContext): Promise<ActionResult> {
  const { connector, steps } = run;
  const app = connector.displayName;
  const slots = await signInSlots(run);
  if (!slots.includes('pending'))
    throw new RunnerError(
      'SeedNotFound',
      'The store holds no seed to adopt (spec.mfa.adoptFrom); the operator writes it before the run starts, so it will retry.',
      true,
    );
  const { value: mfaOn, seed } = await withStoredSeedsSession(
    run,
    ['pending'],
    async (ctx, codes) =>
      codes.asked && (await steps.run('readMfaState', () => connector.readMfaState(ctx))).totpEnabled,
    () =>
      new RunnerError(
        'AdoptionSeedRejected',
        `${app} refused codes from the seed of spec.mfa.adoptFrom in two time windows: it is not the account's ` +
          'authenticator. Nothing was stored and MFA is unchanged. Put the seed of the authenticator the account uses ' +
          'in the Secret.',
      ),
  );
  if (!mfaOn)
    throw new RunnerError(
      'AdoptionMfaOff',
      `${app} did not ask for a code at sign-in, or reports no authenticator app: MFA is off, so there is nothing to ` +
        'adopt and nothing was stored. Remove spec.mfa.adoptFrom and the operator turns MFA on with a seed of its own.',
    );
  await markAdopted(run, 'pending');
  return {
    outcome: 'Adopted',
    message: `The ${app} account's existing authenticator accepted a code from the seed of spec.mfa.adoptFrom; adopted it.`,
    ...(seed ? { seed } : {}),
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
