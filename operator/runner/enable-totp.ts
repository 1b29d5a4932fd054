import type { ConnectorContext } from '../../connectors/sdk/connector.ts';
import { resolveEnrollmentSeed } from '../../connectors/sdk/enrollment-secret.ts';
import {
  ConnectorError,
  isConnectorError,
  otherMfaMethodEnabled,
  sinkUnavailable,
} from '../../connectors/sdk/errors.ts';
import { seedMetadata, type TotpSeed } from '../../core/totp/totp-seed.ts';
import { adoptStoredSeed } from './adopt-seed.ts';
import { withSession, type ActionResult, type RunContext } from './run-context.ts';
import { VerifyingCodeSource } from './verifying-code-source.ts';

/**
 * Turn the authenticator app on, in the order that cannot lock the account out (docs/architecture.md
 * invariant 1): the seed is durably stored as pending before the app is asked to confirm it.
 */
export async function enableTotp(run: RunContext): Promise<ActionResult> {
  const { connector, steps } = run;
  const enrolled = await withSession(run, undefined, async (ctx) => {
    const mfaOn = await signInExpectingNoMfa(run, ctx);
    if (mfaOn) return undefined;
    const state = await steps.run('readMfaState', () => connector.readMfaState(ctx));
    if (state.totpEnabled) return undefined;
    if (state.otherMethods.length > 0) throw otherMfaMethodEnabled(connector.displayName, state.otherMethods);
    return enroll(run, ctx);
  });
  // MFA was on already: only a stored seed that still opens the account lets the run succeed.
  return enrolled ?? adoptStoredSeed(run);
}

/** True when the app asked for a second factor, i.e. some MFA is already on. */
async function signInExpectingNoMfa(run: RunContext, ctx: ConnectorContext): Promise<boolean> {
  try {
    await run.steps.run('login', () => run.connector.login(ctx, run.credentials));
    return false;
  } catch (e: unknown) {
    if (isConnectorError(e) && e.reason === 'MfaAlreadyEnabled') return true;
    throw e;
  }
}

async function enroll(run: RunContext, ctx: ConnectorContext): Promise<ActionResult> {
  const { connector, sink, steps } = run;
  const seed = await steps.run('beginEnrollment', async () => {
    const shown = await connector.beginTotpEnrollment(ctx);
    for (const secret of [shown.textKey, shown.otpauthUri]) if (secret) run.scrubber.add(secret);
    return resolveEnrollmentSeed(connector.displayName, shown);
  });
  run.scrubber.add(seed.secret);
  await steps.run('storePendingSeed', () =>
    sink.writePendingSeed(seed).catch((e: unknown) => {
      throw sinkUnavailable('the pending seed', 'enrollment was not confirmed, MFA stays off', e);
    }),
  );
  await steps.run('confirmEnrollment', () => confirm(run, ctx, seed));
  // The codes are shown once: read and stored before anything else, so only that one write is at risk.
  const codes = await steps.run('readRecoveryCodes', () => connector.readRecoveryCodes(ctx));
  run.scrubber.add(codes);
  const acknowledged = Boolean(connector.acknowledgeRecoveryCodes);
  await steps.run('storeRecoveryCodes', () =>
    sink.writeRecoveryCodes(codes).catch((e: unknown) => {
      throw sinkUnavailable(
        'the recovery codes',
        acknowledged
          ? 'the codes were not acknowledged, so an app that waits for that keeps MFA off; the seed is stored as pending and a re-run adopts or replaces it'
          : 'MFA is on and the seed is stored as pending, so a re-run adopts it, but the recovery codes shown once are not',
        e,
      );
    }),
  );
  if (connector.acknowledgeRecoveryCodes) {
    await steps.run('acknowledgeRecoveryCodes', () => connector.acknowledgeRecoveryCodes!(ctx));
  }
  // Only now is MFA on for every app (some turn it on once the codes are acknowledged): `confirmed` means exactly that.
  await steps.run('markConfirmed', () =>
    sink.markConfirmed().catch((e: unknown) => {
      throw sinkUnavailable(
        'the confirmation',
        'MFA is on and the seed is stored as pending, so a re-run adopts it',
        e,
      );
    }),
  );
  return {
    outcome: 'Enabled',
    message: `Authenticator-app MFA is on for the ${connector.displayName} account; seed and ${codes.reveal().length} recovery codes stored.`,
    seed: seedMetadata(seed),
    recoveryCodeCount: codes.reveal().length,
  };
}

/** One retry with the next window's code: a refusal right at a window change is not the seed's fault. */
async function confirm(run: RunContext, ctx: ConnectorContext, seed: TotpSeed): Promise<void> {
  const codes = new VerifyingCodeSource(seed, run.scrubber);
  try {
    await run.connector.confirmTotpEnrollment(ctx, await codes.totpCode());
  } catch (e: unknown) {
    if (!(e instanceof ConnectorError && e.reason === 'EnrollmentRejected')) throw e;
    run.logger.warn('the app refused the confirmation code; retrying once with the next code');
    await run.connector.confirmTotpEnrollment(ctx, await codes.totpCode());
  }
}
