import { readFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import type { Logger } from '../../core/logging/logger.ts';
import { CHROMIUM_PATH, launchBrowser } from '../../connectors/sdk/browser.ts';
import { createTrustHome, TrustStoreError, type TrustHome } from '../../connectors/sdk/browser-trust.ts';
import { CaBundleProblem, parseCaBundle, type TrustedCa } from '../../core/tls/ca-bundle.ts';
import { DEFAULT_TIMEOUTS, type Connector, type Credentials } from '../../connectors/sdk/connector.ts';
import { resolveLoginUrl } from '../../connectors/sdk/login-host.ts';
import type { ConnectorRegistry } from '../../connectors/sdk/registry.ts';
import { adoptSourceSeed } from './adopt-seed.ts';
import { disableTotp } from './disable-totp.ts';
import { enableTotp } from './enable-totp.ts';
import { regenerateRecoveryCodes } from './regenerate-recovery-codes.ts';
import { rotateTotp } from './rotate-totp.ts';
import type { OutcomeSummary } from '../run-contract/outcome.ts';
import type { ResultSink } from './result-sink.ts';
import { RunCodeClient } from './run-code-client.ts';
import type { ActionResult, RunContext } from './run-context.ts';
import type { RunAction, RunSpec } from '../run-contract/run-spec.ts';
import { describeFailure, RunnerError } from './runner-errors.ts';
import { SecretScrubber } from './secret-scrubber.ts';
import { StepRecorder, type AfterStepHook } from './steps.ts';
import { verifyStoredSeed } from './verify-totp.ts';
import type { StopRequest } from './stop-request.ts';

export interface RunnerDeps {
  connectors: ConnectorRegistry;
  logger: Logger;
  /** A browser to use instead of launching one (benchmarks reuse one); it is not closed. Not used for a run with a caBundle. */
  browser?: Browser;
  afterStep?: AfterStepHook;
  /** Honoured at step boundaries; without it a signal ends the process at once. */
  stop?: StopRequest;
  /** Collects every secret the run handles; pass the one `logger` scrubs its lines with. */
  scrubber?: SecretScrubber;
}

const ACTIONS: Record<RunAction, (run: RunContext) => Promise<ActionResult>> = {
  enable: enableTotp,
  disable: disableTotp,
  verify: verifyStoredSeed,
  rotate: rotateTotp,
  adopt: adoptSourceSeed,
  regenerate: regenerateRecoveryCodes,
};

/**
 * One Job run: resolve the connector and login URL, sign in, act, and return the non-secret
 * outcome summary. Never throws for a failed run: the failure is the summary.
 */
export async function performRun(spec: RunSpec, sink: ResultSink, deps: RunnerDeps): Promise<OutcomeSummary> {
  const startedAt = new Date().toISOString();
  const steps = new StepRecorder(deps.logger, deps.afterStep, deps.stop);
  const scrubber = deps.scrubber ?? new SecretScrubber();
  const artifacts: string[] = [];
  let connector: Connector | undefined;
  let ownBrowser: Browser | undefined;
  let trustHome: TrustHome | undefined;
  const base = () => ({
    action: spec.action,
    connector: { id: spec.connector, ...(connector ? { version: connector.version } : {}) },
    steps: steps.timings,
    startedAt,
    finishedAt: new Date().toISOString(),
    ...(artifacts.length ? { artifacts } : {}),
  });
  try {
    const loaded = await deps.connectors.load(spec.connector);
    connector = loaded;
    const loginUrl = await steps.run('resolveLoginUrl', async () => resolveLoginUrl(loaded, spec.loginUrl));
    const credentials = await steps.run('readCredentials', () => loadCredentials(spec, scrubber));
    // Trust is per browser process, so a run with its own CAs always starts its own browser.
    const caBundle = spec.caBundle;
    if (caBundle !== undefined) trustHome = await steps.run('trustCaBundle', () => trustCaBundle(caBundle));
    const launchOptions = trustHome ? { home: trustHome.home } : {};
    const browser =
      (trustHome ? undefined : deps.browser) ??
      (await steps.run('startBrowser', async () => (ownBrowser = await launchBrowser(CHROMIUM_PATH, launchOptions))));
    const result = await ACTIONS[spec.action]({
      connector: loaded,
      loginUrl,
      credentials,
      browser,
      sink,
      steps,
      scrubber,
      artifacts,
      logger: deps.logger,
      timeouts: { ...DEFAULT_TIMEOUTS, ...spec.timeouts },
      ...optionalContext(spec, scrubber),
    });
    deps.logger.info({ outcome: result.outcome }, result.message);
    return { ...result, reason: result.outcome, retryable: false, ...base() };
  } catch (e: unknown) {
    const failure = describeFailure(e, scrubber);
    // The raw message helps debugging; it is scrubbed of every secret this run handled.
    const detail = e instanceof Error ? scrubber.scrub(e.message).slice(0, 500) : typeof e;
    deps.logger.error(
      { reason: failure.reason, error: e instanceof Error ? e.name : typeof e, detail },
      failure.message,
    );
    return { outcome: 'Failed', ...failure, ...base() };
  } finally {
    await ownBrowser?.close();
    await trustHome?.dispose();
  }
}

/** A browser HOME that trusts the run spec's CAs; the operator checked them already, so a problem here is the image's or a hand-written spec's. */
async function trustCaBundle(pem: string): Promise<TrustHome> {
  let cas: TrustedCa[];
  try {
    cas = parseCaBundle(pem, new Date());
  } catch (e: unknown) {
    if (!(e instanceof CaBundleProblem)) throw e;
    throw new RunnerError(
      'CABundleInvalid',
      `The CA bundle of spec.account.caBundleRef is not usable: ${e.message}. Fix the ConfigMap it names.`,
    );
  }
  try {
    return await createTrustHome(cas);
  } catch (e: unknown) {
    if (!(e instanceof TrustStoreError)) throw e;
    const fix = e.toolMissing
      ? 'The runner image must include certutil (libnss3-tools) to trust spec.account.caBundleRef.'
      : 'Check the certificates in the ConfigMap of spec.account.caBundleRef.';
    throw new RunnerError('TrustStoreUnavailable', `${e.message} ${fix}`);
  }
}

/** What a run has only when its spec says so: sign-in codes from the code service, failure artifacts. */
function optionalContext(spec: RunSpec, scrubber: SecretScrubber): Pick<RunContext, 'codes' | 'artifactsDir'> {
  return {
    ...(spec.codeService ? { codes: new RunCodeClient(spec.codeService, scrubber) } : {}),
    ...(spec.artifactsDir ? { artifactsDir: spec.artifactsDir } : {}),
  };
}

/** Secret files end with a newline when written by hand or by `kubectl create secret --from-file`. */
async function loadCredentials(spec: RunSpec, scrubber: SecretScrubber): Promise<Credentials> {
  try {
    const username = (await readFile(spec.credentials.usernameFile, 'utf8')).replace(/\r?\n$/, '');
    const password = new SecretValue((await readFile(spec.credentials.passwordFile, 'utf8')).replace(/\r?\n$/, ''));
    scrubber.add(password);
    return { username, password };
  } catch (e: unknown) {
    const code = e instanceof Error && 'code' in e ? String(e.code) : 'unknown error';
    throw new RunnerError(
      'CredentialsUnavailable',
      `Cannot read the account credentials (${code}); check that the credentials Secret exists and is mounted.`,
      true,
    );
  }
}
