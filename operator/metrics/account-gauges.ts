import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import { verificationOverdue } from '../automation/verify-schedule.ts';
import { DEFAULT_LOW_THRESHOLD } from '../controller/status/recovery-codes.ts';
import type { OperatorMetrics } from './metrics.ts';

/**
 * The per-account gauges, recounted from the cache: accounts by connector, state and readiness; accounts whose last
 * verification found drift, by reason; accounts whose verification is overdue. Labels are bounded, never a name;
 * the recovery code gauges (recoveryCodes below) are the one exception.
 */
export function countAccounts(metrics: OperatorMetrics, mfas: readonly ManagedAccountMfa[], now: Date): void {
  const accounts = new Tally();
  const drifted = new Tally();
  const overdue = new Tally();
  for (const m of mfas) {
    const connector = m.spec.connector;
    accounts.add(accountLabels(m));
    const drift = driftOf(m);
    if (drift) drifted.add({ connector, reason: drift });
    if (verificationOverdue(m, now)) overdue.add({ connector });
  }
  accounts.publish(metrics.accounts);
  drifted.publish(metrics.driftedAccounts);
  overdue.publish(metrics.verificationsOverdue);
  recoveryCodes(metrics, mfas);
}

/**
 * What is left of each account's stored recovery codes and its low threshold, from status and spec as
 * RecoveryCodesLow is derived; reset first, so a deleted account, or one whose codes are gone, drops out.
 */
function recoveryCodes(metrics: OperatorMetrics, mfas: readonly ManagedAccountMfa[]): void {
  metrics.recoveryCodesRemaining.reset();
  metrics.recoveryCodesLowThreshold.reset();
  for (const m of mfas) {
    const codes = m.status?.recoveryCodes;
    // An app that gave no codes (a Keycloak realm without the recovery code form) has none to run low.
    if (!codes?.count) continue;
    const labels = { resource_namespace: m.metadata.namespace ?? '', resource_name: m.metadata.name ?? '' };
    metrics.recoveryCodesRemaining.set(labels, codes.remaining ?? codes.count);
    metrics.recoveryCodesLowThreshold.set(labels, m.spec.mfa?.recoveryCodes?.lowThreshold ?? DEFAULT_LOW_THRESHOLD);
  }
}

function accountLabels(m: ManagedAccountMfa): Record<string, string> {
  const ready = m.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  return { connector: m.spec.connector, mfa_state: m.status?.mfaState ?? 'Unknown', ready: String(ready) };
}

/** Drift counts while verification is on and MFA is meant to be on; turning either off ends the alert. */
function driftOf(m: ManagedAccountMfa): string | undefined {
  const mfa = m.spec.mfa;
  if (!mfa?.verify || (mfa.state ?? 'Enabled') !== 'Enabled') return undefined;
  return m.status?.verification?.drift;
}

/** Counts per label set; publishing resets the gauge first, so a label set that emptied drops out. */
class Tally {
  readonly #counts = new Map<string, number>();

  add(labels: Record<string, string>): void {
    const key = JSON.stringify(labels);
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  publish(gauge: { reset(): void; set(labels: Record<string, string>, value: number): void }): void {
    gauge.reset();
    for (const [key, n] of this.#counts) gauge.set(JSON.parse(key) as Record<string, string>, n);
  }
}
