import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The operator's Prometheus metrics. Labels are bounded, operator-controlled values (controller, result,
 * connector, reason): never a secret, and a user-chosen name only on the recovery code gauges, where the alert must
 * say which account's break-glass codes run out (one series per account with stored codes).
 */
export function createMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry, prefix: 'mfa_operator_' });
  const registers = [registry];
  return { registry, ...controllerMetrics(registers), ...accountMetrics(registers) };
}

/** How the controllers and their work queues are doing, and who leads. */
function controllerMetrics(registers: Registry[]) {
  return {
    reconcileTotal: new Counter({
      name: 'mfa_operator_reconcile_total',
      help: 'Reconciles by controller and result (success, requeue_after, error).',
      labelNames: ['controller', 'result'],
      registers,
    }),
    reconcileErrors: new Counter({
      name: 'mfa_operator_reconcile_errors_total',
      help: 'Reconciles that failed and were retried with backoff.',
      labelNames: ['controller'],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'mfa_operator_reconcile_duration_seconds',
      help: 'Time spent in one reconcile.',
      labelNames: ['controller', 'result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'mfa_operator_workqueue_depth',
      help: 'Keys waiting in the work queue.',
      labelNames: ['controller'],
      registers,
    }),
    queueAdds: new Counter({
      name: 'mfa_operator_workqueue_adds_total',
      help: 'Keys added to the work queue.',
      labelNames: ['controller'],
      registers,
    }),
    queueRetries: new Counter({
      name: 'mfa_operator_workqueue_retries_total',
      help: 'Keys requeued with backoff after an error.',
      labelNames: ['controller'],
      registers,
    }),
    isLeader: new Gauge({
      name: 'mfa_operator_leader',
      help: '1 while this instance holds the leader lease.',
      registers,
    }),
  };
}

/** What the accounts and their runs are doing: states, outcomes, drift, time to MFA, store writes, watches. */
function accountMetrics(registers: Registry[]) {
  return {
    accounts: new Gauge({
      name: 'mfa_operator_accounts',
      help: 'ManagedAccountMfa resources by connector, observed MFA state and readiness.',
      labelNames: ['connector', 'mfa_state', 'ready'],
      registers,
    }),
    enablementRuns: new Counter({
      name: 'mfa_operator_enablement_runs_total',
      help: 'Finished automation runs (all but verifications) by connector, outcome and reason.',
      labelNames: ['connector', 'outcome', 'reason'],
      registers,
    }),
    verificationRuns: new Counter({
      name: 'mfa_operator_verification_runs_total',
      help: 'Finished verification runs (spec.mfa.verify) by connector, outcome and reason.',
      labelNames: ['connector', 'outcome', 'reason'],
      registers,
    }),
    driftedAccounts: new Gauge({
      name: 'mfa_operator_accounts_drifted',
      help: 'ManagedAccountMfa resources whose last verification found drift, by connector and reason.',
      labelNames: ['connector', 'reason'],
      registers,
    }),
    verificationsOverdue: new Gauge({
      name: 'mfa_operator_verifications_overdue',
      help: 'ManagedAccountMfa resources whose seed no run proved for two verification intervals, by connector.',
      labelNames: ['connector'],
      registers,
    }),
    secondsToMfaEnabled: new Histogram({
      name: 'mfa_operator_seconds_to_mfa_enabled',
      help: 'Seconds from a resource being created to MFA confirmed on with its seed stored.',
      labelNames: ['connector'],
      buckets: [5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 86400],
      registers,
    }),
    storeWrites: new Counter({
      name: 'mfa_operator_store_writes_total',
      help: 'Writes of seeds and recovery codes to secret stores, by provider and result.',
      labelNames: ['provider', 'result'],
      registers,
    }),
    // resource_namespace, not namespace: Prometheus gives every series the operator pod's namespace under that name.
    recoveryCodesRemaining: new Gauge({
      name: 'mfa_operator_recovery_codes_remaining',
      help: 'Stored recovery codes the code service has not handed out, per ManagedAccountMfa with stored codes.',
      labelNames: ['resource_namespace', 'resource_name'],
      registers,
    }),
    recoveryCodesLowThreshold: new Gauge({
      name: 'mfa_operator_recovery_codes_low_threshold',
      help: 'spec.mfa.recoveryCodes.lowThreshold (0: off), per ManagedAccountMfa with stored codes; RecoveryCodesLow is True below it.',
      labelNames: ['resource_namespace', 'resource_name'],
      registers,
    }),
    informerRestarts: new Gauge({
      name: 'mfa_operator_informer_restarts',
      help: 'Times the watches were restarted after an error.',
      labelNames: ['resource'],
      registers,
    }),
  };
}

export type OperatorMetrics = ReturnType<typeof createMetrics>;
