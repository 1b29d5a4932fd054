import type { ManagedAccountMfa } from '../../operator/api/v1alpha1/types.generated.ts';
import { JobAutomationDriver } from '../../operator/automation/job-driver.ts';
import type { RunCodeService } from '../../operator/automation/run-objects.ts';
import { DEFAULT_RUNNER_SETTINGS, type RunnerSettings } from '../../operator/automation/runner-settings.ts';
import type { AutomationStep } from '../../operator/controller/managedaccountmfa/automation.ts';
import { createLogger } from '../../core/logging/logger.ts';
import { createMetrics, type OperatorMetrics } from '../../operator/metrics/metrics.ts';
import { InMemoryKube } from './in-memory-kube.ts';
import { InMemoryStore } from './in-memory-store.ts';

export const NS = 'team-a';
export const CODE_SERVICE: RunCodeService = {
  url: 'https://codes.mfa-operator-system.svc',
  caBundle: 'PEM',
  audience: 'mfa-operator.io/code-service',
};

/**
 * The job driver's world for unit tests: an in-memory API (recording its calls), an in-memory store that passes the
 * store contract, and a clock that moves only when a test moves it. Nothing is started.
 */
export class DriverFixture {
  readonly kube = new InMemoryKube();
  readonly store = new InMemoryStore();
  readonly metrics: OperatorMetrics = createMetrics();
  now = Date.parse('2026-12-01T12:00:00Z');
  settings: RunnerSettings = {
    ...DEFAULT_RUNNER_SETTINGS,
    image: 'runner:test',
    retryBaseSeconds: 1,
    retryMaxSeconds: 1,
  };
  /** The credentials Secret's resourceVersion; undefined plays a Secret that is missing or not opted in. */
  credentials: string | undefined = '1';
  /** The resourceVersion of spec.mfa.adoptFrom's Secret in the cache; undefined plays one missing or not opted in. */
  adoptionSource: string | undefined = undefined;
  #accounts = 0;

  driver(options: { codeService?: RunCodeService } = { codeService: CODE_SERVICE }): JobAutomationDriver {
    return new JobAutomationDriver({
      core: this.kube.core,
      batch: this.kube.batch,
      rbac: this.kube.rbac,
      jobs: () => this.kube.jobs(),
      credentialsVersion: () => this.credentials,
      adoptionSourceVersion: () => this.adoptionSource,
      stores: { forAccount: async () => ({ provider: this.store, storeKind: 'Default', description: 'memory' }) },
      settings: this.settings,
      metrics: this.metrics,
      log: createLogger('test', { level: 'silent' }),
      now: () => new Date(this.now),
      ...options,
    });
  }

  account(spec: Partial<ManagedAccountMfa['spec']> = {}, status: ManagedAccountMfa['status'] = {}): ManagedAccountMfa {
    this.#accounts += 1;
    return {
      apiVersion: 'mfa-operator.io/v1alpha1',
      kind: 'ManagedAccountMfa',
      metadata: {
        name: 'acct',
        namespace: NS,
        uid: `uid-${this.#accounts}`,
        generation: 1,
        creationTimestamp: new Date(this.now),
      },
      spec: { connector: 'demo', account: { credentialsSecretRef: { name: 'acct-login' } }, ...spec },
      status,
    } as ManagedAccountMfa;
  }

  newestJob(action: string): string {
    return this.kube
      .jobs()
      .filter((j) => j.metadata?.labels?.['mfa-operator.io/action'] === action)
      .at(-1)!.metadata!.name!;
  }

  /** The runner's writes to its result Secret (it may update only that one). */
  runnerWrites(name: string, data: Record<string, string>): void {
    const secret = this.kube.secret(NS, name)!;
    secret.data = { ...secret.data, ...data };
  }
}

/** What the reconciler does with a step: status first, then the follow-up work. */
export async function apply(mfa: ManagedAccountMfa, step: AutomationStep): Promise<void> {
  mfa.status = { ...mfa.status, ...step.status };
  await step.afterStatusWritten?.();
}

export const failed = (reason: string, retryable: boolean, extra: Record<string, unknown> = {}) => ({
  outcome: 'Failed',
  reason,
  message: `failed: ${reason}`,
  retryable,
  ...extra,
});
