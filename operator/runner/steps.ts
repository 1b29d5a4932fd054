import type { Logger } from '../../core/logging/logger.ts';
import type { RunStep, StepTiming } from '../run-contract/outcome.ts';
import type { StopRequest } from './stop-request.ts';

/** Called after each step that succeeded; tests use it to stop the runner at a chosen point. */
export type AfterStepHook = (step: RunStep) => Promise<void>;

/** Runs steps in order, logging a line with the duration of each: the run's progress and audit trail. */
export class StepRecorder {
  readonly timings: StepTiming[] = [];
  readonly #logger: Logger;
  readonly #afterStep: AfterStepHook | undefined;
  readonly #stop: StopRequest | undefined;

  constructor(logger: Logger, afterStep?: AfterStepHook, stop?: StopRequest) {
    this.#logger = logger;
    this.#afterStep = afterStep;
    this.#stop = stop;
  }

  /** Runs one step, unless a stop was requested: then it throws `Terminated` (see StopRequest). */
  async run<T>(name: RunStep, work: () => Promise<T>): Promise<T> {
    this.#stop?.beforeStep(name);
    const started = performance.now();
    this.#logger.info({ step: name }, `step ${name} started`);
    try {
      const value = await work();
      this.#finish(name, started, 'ok');
      await this.#afterStep?.(name);
      return value;
    } catch (e: unknown) {
      this.#finish(name, started, 'failed');
      throw e;
    } finally {
      this.#stop?.afterStep(name);
    }
  }

  #finish(name: RunStep, started: number, result: StepTiming['result']): void {
    const durationMs = Math.round(performance.now() - started);
    this.timings.push({ name, durationMs, result });
    const log = result === 'ok' ? this.#logger.info.bind(this.#logger) : this.#logger.warn.bind(this.#logger);
    log(
      { step: name, durationMs, result },
      `step ${name} ${result === 'ok' ? 'finished' : 'failed'} in ${durationMs} ms`,
    );
  }
}
