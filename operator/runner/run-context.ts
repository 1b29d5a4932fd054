import type { Browser } from 'playwright-core';
import type { Logger } from '../../core/logging/logger.ts';
import { BrowserSession } from '../../connectors/sdk/browser.ts';
import type {
  Connector,
  ConnectorContext,
  ConnectorTimeouts,
  Credentials,
  SecondFactor,
} from '../../connectors/sdk/connector.ts';
import type { TotpSeedMetadata } from '../../core/totp/totp-seed.ts';
import type { SuccessOutcome } from '../run-contract/outcome.ts';
import type { ResultSink } from './result-sink.ts';
import type { RunCodeClient } from './run-code-client.ts';
import type { SecretScrubber } from './secret-scrubber.ts';
import type { StepRecorder } from './steps.ts';

/** Everything one action needs; built once per run by performRun. */
export interface RunContext {
  connector: Connector;
  loginUrl: URL;
  credentials: Credentials;
  browser: Browser;
  sink: ResultSink;
  /** Sign-in codes from the store's seeds; absent when the run spec names no code service. */
  codes?: RunCodeClient;
  steps: StepRecorder;
  logger: Logger;
  timeouts: ConnectorTimeouts;
  scrubber: SecretScrubber;
  artifactsDir?: string;
  /** Paths of failure artifacts written so far. */
  artifacts: string[];
}

export interface ActionResult {
  outcome: SuccessOutcome;
  message: string;
  seed?: TotpSeedMetadata;
  recoveryCodeCount?: number;
}

/**
 * Run `work` on a page in a fresh browser context, saving failure artifacts (secrets masked)
 * when the work fails and artifacts are on. The context is closed either way.
 */
export async function withSession<T>(
  run: RunContext,
  secondFactor: SecondFactor | undefined,
  work: (ctx: ConnectorContext) => Promise<T>,
): Promise<T> {
  const session = await BrowserSession.open(run.browser, {
    allowedHosts: run.connector.allowedLoginHosts,
    logger: run.logger,
    ...(run.artifactsDir ? { artifactsDir: run.artifactsDir } : {}),
    ...(run.connector.secretElements ? { secretElements: run.connector.secretElements } : {}),
  });
  const ctx: ConnectorContext = {
    page: session.page,
    loginUrl: run.loginUrl,
    logger: run.logger.child({ connector: run.connector.id }),
    timeouts: run.timeouts,
    stepUp: { credentials: run.credentials, ...(secondFactor ? { secondFactor } : {}) },
  };
  session.page.setDefaultTimeout(run.timeouts.actionMs);
  session.page.setDefaultNavigationTimeout(run.timeouts.navigationMs);
  try {
    return await work(ctx);
  } catch (e: unknown) {
    await saveArtifacts(run, session);
    throw session.explainFailure(e);
  } finally {
    await session.close();
  }
}

async function saveArtifacts(run: RunContext, session: BrowserSession): Promise<void> {
  try {
    run.artifacts.push(...(await session.saveFailureArtifacts((text) => run.scrubber.scrub(text))));
  } catch (e: unknown) {
    // The run's own failure matters more than a missing screenshot.
    run.logger.warn({ error: e instanceof Error ? e.name : typeof e }, 'could not save failure artifacts');
  }
}
