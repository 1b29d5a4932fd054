import type { ConnectorContext } from '../../connectors/sdk/connector.ts';
import { ConnectorError, isConnectorError } from '../../connectors/sdk/errors.ts';
import type { TotpSeed } from '../../connectors/sdk/totp-seed.ts';
import { withSession, type RunContext } from './run-context.ts';
import { VerifyingCodeSource } from './verifying-code-source.ts';

/** The default when codes from the stored seed are refused in two windows: it does not open the account. */
export function storedSeedDoesNotMatch(app: string): ConnectorError {
  return new ConnectorError('InvalidCredentials',
    `${app} refused codes from the stored seed in two time windows; the stored seed does not open the account. ` +
    'Restore the right seed or turn MFA off in the app by hand.');
}

/**
 * Signs in with codes from a stored seed, then does `work` in that session. Apps refuse a code from a
 * time window they already accepted one from (another run may have just confirmed or signed in with it,
 * in another process), so a refused code is tried once more in the next window before giving up.
 */
export async function withSeedSession<T>(
  run: RunContext, seed: TotpSeed, work: (ctx: ConnectorContext, codes: VerifyingCodeSource) => Promise<T>,
  refused: () => Error = () => storedSeedDoesNotMatch(run.connector.displayName),
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    // A new source per attempt (used windows are shared process-wide), so `asked` is this attempt's.
    const codes = new VerifyingCodeSource(seed, run.scrubber);
    const result = await withSession(run, codes, async (ctx) => {
      try {
        await run.steps.run('login', () => run.connector.login(ctx, run.credentials, codes));
      } catch (e: unknown) {
        if (codes.asked && isConnectorError(e) && e.reason === 'InvalidCredentials') return REFUSED;
        throw e;
      }
      return { value: await work(ctx, codes) };
    });
    if (result !== REFUSED) return result.value;
    if (attempt >= 2) throw refused();
    run.logger.warn('the app refused the stored seed\'s code; retrying once in the next time window');
  }
}

const REFUSED = Symbol('refused');
