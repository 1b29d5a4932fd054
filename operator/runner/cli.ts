import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createLogger } from '../../core/logging/logger.ts';
import { connectors } from '../../connectors/index.ts';
import type { ConnectorRegistry } from '../../connectors/sdk/registry.ts';
import { FileResultSink } from './file-sink.ts';
import { KubernetesResultSink } from './kubernetes-sink.ts';
import type { ResultSink } from './result-sink.ts';
import { isSuccess, type OutcomeSummary } from '../run-contract/outcome.ts';
import { DEFAULT_TERMINATION_MESSAGE_PATH, publishSummary } from './termination-message.ts';
import { performRun } from './run.ts';
import { readRunSpec, type SinkSpec } from '../run-contract/run-spec.ts';
import { describeFailure } from './runner-errors.ts';
import { SecretScrubber } from './secret-scrubber.ts';
import type { AfterStepHook } from './steps.ts';
import { StopRequest } from './stop-request.ts';

export const RUNNER_USAGE = 'usage: runner --run-spec FILE [--termination-message-path FILE]';

export interface RunnerCliOptions {
  afterStep?: AfterStepHook;
  stdout?: NodeJS.WritableStream;
  /** Tests only: other connectors, and where log lines go instead of stderr. */
  connectors?: ConnectorRegistry;
  logDestination?: pino.DestinationStream;
}

/**
 * The program a run Job executes. Logs go to stderr; stdout carries only the outcome summary,
 * which is also the termination message. Returns the exit code: 0 on success.
 */
export async function runRunnerCli(argv: string[], options: RunnerCliOptions = {}): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { 'run-spec': { type: 'string' }, 'termination-message-path': { type: 'string' } },
  });
  const specPath = values['run-spec'];
  if (!specPath) {
    process.stderr.write(`${RUNNER_USAGE}\n`);
    return 2;
  }
  const terminationPath =
    values['termination-message-path'] ?? process.env.MFA_TERMINATION_MESSAGE_PATH ?? DEFAULT_TERMINATION_MESSAGE_PATH;
  // Every secret the run handles goes into this scrubber, and every log line through it.
  const scrubber = new SecretScrubber();
  // Synchronous writes: a killed runner's last step line must already be in the log.
  const logger = createLogger(
    'runner',
    { scrub: scrubber.scrubLine },
    options.logDestination ?? pino.destination({ fd: 2, sync: true }),
  );
  let summary: OutcomeSummary;
  const stop = StopRequest.onSignals((signal) =>
    logger.warn({ signal }, `${signal} received: stopping at the next step that loses nothing`),
  );
  try {
    const spec = await readRunSpec(specPath);
    summary = await performRun(spec, sinkFor(spec.sink), {
      connectors: options.connectors ?? connectors,
      logger,
      stop,
      scrubber,
      ...(options.afterStep ? { afterStep: options.afterStep } : {}),
    });
  } catch (e: unknown) {
    const failure = describeFailure(e, scrubber);
    logger.error({ reason: failure.reason }, failure.message);
    const now = new Date().toISOString();
    summary = {
      outcome: 'Failed',
      ...failure,
      action: 'unknown',
      connector: { id: 'unknown' },
      steps: [],
      startedAt: now,
      finishedAt: now,
    };
  } finally {
    stop.dispose();
  }
  await publishSummary(summary, terminationPath, stdout);
  return isSuccess(summary) ? 0 : 1;
}

function sinkFor(spec: SinkSpec): ResultSink {
  return spec.type === 'file'
    ? new FileResultSink(spec.dir)
    : new KubernetesResultSink(spec.namespace, spec.secretName);
}
