import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import { countAccounts } from './account-gauges.ts';
import { createMetrics } from './metrics.ts';

function account(name: string, status: ManagedAccountMfa['status'], lowThreshold?: number): ManagedAccountMfa {
  return {
    apiVersion: 'mfa-operator.io/v1alpha1',
    kind: 'ManagedAccountMfa',
    metadata: { namespace: 'team-a', name },
    spec: {
      connector: 'demo',
      ...(lowThreshold === undefined ? {} : { mfa: { recoveryCodes: { lowThreshold } } }),
    },
    status,
  } as ManagedAccountMfa;
}

async function series(registry: Registry, metric: string): Promise<Record<string, number>> {
  const values = (await registry.getSingleMetric(metric)!.get()).values;
  return Object.fromEntries(values.map((v) => [String(v.labels.resource_name), v.value]));
}

describe('the recovery code gauges', () => {
  const now = new Date('2026-11-27T10:00:00Z');

  it('export what is left and the threshold per account with stored codes, and drop accounts that went', async () => {
    const metrics = createMetrics(new Registry());
    const spent = account('spent', { recoveryCodes: { count: 10, remaining: 2, used: [0, 1, 2, 3, 4, 5, 6, 7] } }, 0);
    const fresh = account('fresh', { recoveryCodes: { count: 8 } });
    const none = account('none', {});
    const appGaveNone = account('app-gave-none', { recoveryCodes: { count: 0, remaining: 0 } });

    countAccounts(metrics, [spent, fresh, none, appGaveNone], now);
    const before = {
      remaining: await series(metrics.registry, 'mfa_operator_recovery_codes_remaining'),
      threshold: await series(metrics.registry, 'mfa_operator_recovery_codes_low_threshold'),
    };
    countAccounts(metrics, [fresh], now);

    expect(before).toEqual({ remaining: { spent: 2, fresh: 8 }, threshold: { spent: 0, fresh: 3 } });
    expect(await series(metrics.registry, 'mfa_operator_recovery_codes_remaining')).toEqual({ fresh: 8 });
    expect(await series(metrics.registry, 'mfa_operator_recovery_codes_low_threshold')).toEqual({ fresh: 3 });
  });

  it('labels each series with the resource namespace and name', async () => {
    const metrics = createMetrics(new Registry());

    countAccounts(metrics, [account('shared', { recoveryCodes: { count: 5, remaining: 4 } })], now);

    const text = await metrics.registry.getSingleMetricAsString('mfa_operator_recovery_codes_remaining');
    expect(text).toContain(
      'mfa_operator_recovery_codes_remaining{resource_namespace="team-a",resource_name="shared"} 4',
    );
  });
});
