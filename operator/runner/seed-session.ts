import type { ConnectorContext } from '../../connectors/sdk/connector.ts';
import { ConnectorError, isConnectorError } from '../../connectors/sdk/errors.ts';
import type { TotpSeed } from '../../connectors/sdk/totp-seed.ts';
import { sameSeed } from '../stores/material.ts';
import { withSession, type RunContext } from './run-context.ts';
import type { StoredSeed } from './result-sink.ts';
import { VerifyingCodeSource } from './verifying-code-source.ts';

/** The default when codes from the stored seeds are refused in two windows: none of them opens the account. */
export function storedSeedDoesNotMatch(app: string): ConnectorError {
  return new ConnectorError('InvalidCredentials',
    `${app} refused codes from the stored seed in two time windows; the stored seed does not open the account. ` +
    'Restore the right seed or turn MFA off in the app by hand.');
}

/** The seeds a run may sign in with, candidate first: the slot's (unless MFA went off with it), then the active one. */
export interface SignInSeeds {
  candidate?: StoredSeed;
  seeds: TotpSeed[];
}

export async function signInSeeds(run: RunContext): Promise<SignInSeeds> {
  const candidate = await run.sink.readSeed();
  const active = await run.sink.readActiveSeed();
  const seeds: TotpSeed[] = [];
  if (candidate && candidate.state !== 'disabled') seeds.push(candidate.seed);
  if (active && !seeds.some((s) => sameSeed(s, active))) seeds.push(active);
  for (const seed of seeds) run.scrubber.add(seed.secret);
  return { ...(candidate && candidate.state !== 'disabled' ? { candidate } : {}), seeds };
}

/**
 * Signs in with codes from the stored seeds, trying each in turn, then does `work` in that session with the seed the
 * app took (the first one when it asked for no code). Apps refuse a code from a time window they already accepted one
 * from (another run may have just confirmed or signed in with it, in another process), so after every seed was
 * refused each is tried once more in the next window before giving up.
 */
export async function withStoredSeedsSession<T>(
  run: RunContext, seeds: readonly TotpSeed[], work: (ctx: ConnectorContext, codes: VerifyingCodeSource, seed: TotpSeed) => Promise<T>,
  refused: () => Error = () => storedSeedDoesNotMatch(run.connector.displayName),
): Promise<{ value: T; seed: TotpSeed }> {
  for (let round = 1; round <= 2; round++) {
    for (const seed of seeds) {
      // A new source per attempt (used windows are shared process-wide), so `asked` is this attempt's.
      const codes = new VerifyingCodeSource(seed, run.scrubber);
      const result = await withSession(run, codes, async (ctx) => {
        try {
          await run.steps.run('login', () => run.connector.login(ctx, run.credentials, codes));
        } catch (e: unknown) {
          if (codes.asked && isConnectorError(e) && e.reason === 'InvalidCredentials') return REFUSED;
          throw e;
        }
        return { value: await work(ctx, codes, seed) };
      });
      if (result !== REFUSED) return { value: result.value, seed };
    }
    if (round === 1) run.logger.warn({ seeds: seeds.length }, 'the app refused the stored seeds\' codes; retrying once in the next time window');
  }
  throw refused();
}

const REFUSED = Symbol('refused');
