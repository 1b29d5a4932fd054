import { RunnerError } from './runner-errors.ts';
import type { RunStep } from '../run-contract/outcome.ts';

/**
 * Steps that, once begun, run on through the step they map to even when the pod is asked to stop: stopping
 * between them would leave MFA changed on the app with material (recovery codes shown once, the acknowledgement
 * some apps wait for, the seed's state) that exists only in this process.
 */
const RUN_ON = new Map<RunStep, RunStep>([
  ['confirmEnrollment', 'markConfirmed'],
  ['disableTotp', 'markDisabled'],
]);

/**
 * A request to stop (SIGTERM from kubelet at the Job's deadline, on Job deletion or node drain), honoured at the
 * next step boundary outside a run-on section. Kubelet's grace period (30 s by default) bounds the wait; a step
 * that outlasts it ends in SIGKILL, which docs/architecture.md invariant 1 already covers.
 */
export class StopRequest {
  #signal: string | undefined;
  #runOnThrough: RunStep | undefined;
  readonly #dispose: () => void;

  private constructor(dispose: () => void) {
    this.#dispose = dispose;
  }

  /**
   * Listens for the signals until dispose(): the first makes the run stop at the next safe point instead of at
   * once; a second one gets the signal's default action (the process ends), as an impatient Ctrl-C expects.
   */
  static onSignals(
    onRequest: (signal: NodeJS.Signals) => void,
    signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
  ): StopRequest {
    const dispose = () => {
      for (const s of signals) process.off(s, listener);
    };
    const request = new StopRequest(dispose);
    function listener(signal: NodeJS.Signals): void {
      if (request.requested) {
        dispose();
        process.kill(process.pid, signal);
        return;
      }
      request.request(signal);
      onRequest(signal);
    }
    for (const s of signals) process.on(s, listener);
    return request;
  }

  /** A request not tied to process signals (tests, embedding). */
  static manual(): StopRequest {
    return new StopRequest(() => undefined);
  }

  get requested(): string | undefined {
    return this.#signal;
  }

  request(signal: string): void {
    this.#signal ??= signal;
  }

  /** Throws `Terminated` when a stop was requested and `step` is not inside a run-on section. */
  beforeStep(step: RunStep): void {
    if (this.#signal && !this.#runOnThrough) {
      throw new RunnerError(
        'Terminated',
        `The run was asked to stop (${this.#signal}) and stopped before step ${step}, at a point where nothing is lost; the operator will retry.`,
        true,
      );
    }
    this.#runOnThrough ??= RUN_ON.get(step);
  }

  /** Ends a run-on section when its last step is done (or failed: then nothing more is run in it). */
  afterStep(step: RunStep): void {
    if (step === this.#runOnThrough) this.#runOnThrough = undefined;
  }

  dispose(): void {
    this.#dispose();
  }
}
