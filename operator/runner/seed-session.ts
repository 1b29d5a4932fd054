import type { ConnectorContext } from '../../connectors/sdk/connector.ts';
import { ConnectorError, isConnectorError } from '../../connectors/sdk/errors.ts';
import type { TotpSeedMetadata } from '../../core/totp/totp-seed.ts';
import { withSession, type RunContext } from './run-context.ts';
import { RunnerError } from './runner-errors.ts';
import { RecoveryCodeRefused } from './run-code-client.ts';
import { RemoteRecoveryCodeFactor, RemoteSlotCodeSource } from './verifying-code-source.ts';
import type { SeedSlot } from '../stores/seed-slots.ts';

/** The default when codes from the stored seeds are refused in two windows: none of them opens the account. */
export function storedSeedDoesNotMatch(app: string): ConnectorError {
  return new ConnectorError(
    'InvalidCredentials',
    `${app} refused codes from the stored seed in two time windows; the stored seed does not open the account. ` +
      'Restore the right seed or turn MFA off in the app by hand.',
  );
}

/**
 * The store slots that hold a seed, pending first (a candidate a crashed run or a rotation left on the app), asked
 * of the code service before the app is touched, so an operator that is down fails the run retryably with nothing done.
 * A run spec names no code service only when the store held no seed at launch (the operator starts no other run).
 */
export async function signInSlots(run: RunContext): Promise<SeedSlot[]> {
  return run.codes ? run.codes.slots() : [];
}

/** The slots to sign in with, for a run that cannot go on without a stored seed. */
export async function requireStoredSlots(run: RunContext): Promise<SeedSlot[]> {
  const slots = await signInSlots(run);
  if (slots.length === 0) {
    throw new RunnerError(
      'SeedNotFound',
      'The store holds no seed for this account, so the operator cannot sign in with a code. ' +
        'Turn MFA off in the app by hand, or restore the seed.',
    );
  }
  return slots;
}

/** What a sign-in with a stored seed found: the slot whose code the app took, and that seed's parameters. */
export interface SlotSession<T> {
  value: T;
  slot: SeedSlot;
  seed?: TotpSeedMetadata;
}

/**
 * Signs in with codes from the stored seeds' slots, trying each in turn, then does `work` in that session with the slot
 * the app took (the first one when it asked for no code). Apps refuse a code from a time window they already accepted one
 * from (another run may have just confirmed or signed in with it, in another process), so after every slot was
 * refused each is tried once more; the code service hands out each window for one login only, so that is the next one.
 */
export async function withStoredSeedsSession<T>(
  run: RunContext,
  slots: readonly SeedSlot[],
  work: (ctx: ConnectorContext, codes: RemoteSlotCodeSource, slot: SeedSlot) => Promise<T>,
  refused: () => Error = () => storedSeedDoesNotMatch(run.connector.displayName),
): Promise<SlotSession<T>> {
  for (let round = 1; round <= 2; round++) {
    for (const slot of slots) {
      // A new source per attempt, so `asked` is this attempt's.
      const codes = new RemoteSlotCodeSource(run.codes!, slot);
      const result = await withSession(run, codes, async (ctx) => {
        try {
          await run.steps.run('login', () => run.connector.login(ctx, run.credentials, codes));
        } catch (e: unknown) {
          if (codes.asked && isConnectorError(e) && e.reason === 'InvalidCredentials') return REFUSED;
          throw e;
        }
        return { value: await work(ctx, codes, slot) };
      });
      if (result !== REFUSED) return { value: result.value, slot, ...(codes.metadata ? { seed: codes.metadata } : {}) };
    }
    if (round === 1)
      run.logger.warn(
        { slots: slots.length },
        "the app refused the stored seeds' codes; retrying once in the next time window",
      );
  }
  throw refused();
}

const REFUSED = Symbol('refused');

/** How a session signed in: with a stored seed's slot (its source answers later prompts), or with a recovery code. */
export type SignedIn =
  | { readonly via: 'seed'; readonly slot: SeedSlot; readonly codes: RemoteSlotCodeSource }
  | { readonly via: 'recoveryCode'; readonly factor: RemoteRecoveryCodeFactor };

export interface FallbackSession<T> {
  value: T;
  signedIn: SignedIn['via'];
  slot?: SeedSlot;
  seed?: TotpSeedMetadata;
  /** The recovery codes' positions used, when the stored seeds were refused. */
  recoveryCodeIndexes?: readonly number[];
}

/**
 * For runs that turn MFA off (disable, rotate): the stored seeds first, as withStoredSeedsSession; only once the app
 * refused every one of them in two windows, one sign-in with a stored recovery code, which the code service claims
 * for this run (the position the app names). A run whose seed works never asks for one; verify and enable runs never
 * come here.
 */
export async function withStoredSeedsOrRecoveryCode<T>(
  run: RunContext,
  slots: readonly SeedSlot[],
  work: (ctx: ConnectorContext, signedIn: SignedIn) => Promise<T>,
): Promise<FallbackSession<T>> {
  let seedsRefused: SeedsRefused;
  try {
    const session = await withStoredSeedsSession(
      run,
      slots,
      (ctx, codes, slot) => work(ctx, { via: 'seed', slot, codes }),
      () => new SeedsRefused(storedSeedDoesNotMatch(run.connector.displayName)),
    );
    return { ...session, signedIn: 'seed' };
  } catch (e: unknown) {
    if (!(e instanceof SeedsRefused)) throw e;
    seedsRefused = e;
  }
  run.logger.warn("the app refused every stored seed's codes; signing in with one stored recovery code");
  const factor = new RemoteRecoveryCodeFactor(run.codes!, run.connector.displayName);
  let value: T;
  try {
    value = await withSession(run, factor, async (ctx) => {
      await run.steps.run('login', () => run.connector.login(ctx, run.credentials, factor));
      return work(ctx, { via: 'recoveryCode', factor });
    });
  } catch (e: unknown) {
    // With no recovery codes stored there was nothing to fall back on: the refused seed is what to act on.
    if (e instanceof RecoveryCodeRefused && e.serviceReason === 'NoRecoveryCodes') throw seedsRefused.refusal;
    throw e;
  }
  run.logger.info({ recoveryCodeIndexes: factor.indexes }, 'signed in with a stored recovery code');
  return { value, signedIn: 'recoveryCode', recoveryCodeIndexes: factor.indexes };
}

/** The stored seeds' refusal, caught by the fallback above; its `refusal` is reported when nothing could be tried. */
class SeedsRefused extends Error {
  readonly refusal: ConnectorError;

  constructor(refusal: ConnectorError) {
    super(refusal.message);
    this.refusal = refusal;
  }
}

/** How an outcome message says the run got in when it needed a recovery code. */
export function recoveryCodeNote(session: FallbackSession<unknown>): string {
  const indexes = session.recoveryCodeIndexes ?? [];
  if (session.signedIn !== 'recoveryCode') return '';
  return ` The app refused the stored seed, so the run signed in with recovery code ${indexes.map((i) => `#${i + 1}`).join(', ')}.`;
}
