import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The operator's Prometheus metrics. Labels are bounded, operator-controlled values (controller, result,
 * connector, reason): never a secret and never a user-chosen name.
 */
export function createMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry, prefix: 'mfa_operator_' });
  const registers = [registry];
  return {
    registry,
    reconcileTotal: new Counter({
      name: 'mfa_operator_reconcile_total', help: 'Reconciles by controller and result (success, requeue_after, error).',
      labelNames: ['controller', 'result'], registers,
    }),
    reconcileErrors: new Counter({
      name: 'mfa_operator_reconcile_errors_total', help: 'Reconciles that failed and were retried with backoff.',
      labelNames: ['controller'], registers,
    }),
    reconcileDuration: new Histogram({
      name: 'mfa_operator_reconcile_duration_seconds', help: 'Time spent in one reconcile.',
      labelNames: ['controller', 'result'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers,
    }),
    queueDepth: new Gauge({
      name: 'mfa_operator_workqueue_depth', help: 'Keys waiting in the work queue.', labelNames: ['controller'], registers,
    }),
    queueAdds: new Counter({
      name: 'mfa_operator_workqueue_adds_total', help: 'Keys added to the work queue.', labelNames: ['controller'], registers,
    }),
    queueRetries: new Counter({
      name: 'mfa_operator_workqueue_retries_total', help: 'Keys requeued with backoff after an error.', labelNames: ['controller'], registers,
    }),
    isLeader: new Gauge({
      name: 'mfa_operator_leader', help: '1 while this instance holds the leader lease.', registers,
    }),
    informerRestarts: new Gauge({
      name: 'mfa_operator_informer_restarts', help: 'Times the watches were restarted after an error.', labelNames: ['resource'], registers,
    }),
  };
}

export type OperatorMetrics = ReturnType<typeof createMetrics>;
