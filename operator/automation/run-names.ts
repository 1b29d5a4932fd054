import { createHash } from 'node:crypto';

export type RunAction = 'enable' | 'disable';

export interface RunIdentity {
  accountName: string;
  accountUid: string;
  action: RunAction;
  generation: number;
  attempt: number;
}

/**
 * Deterministic, DNS-label-safe run names: the same account, action, generation and attempt always give
 * the same Job name, so a repeated reconcile finds its Job instead of creating a second one.
 */
export function runName(run: RunIdentity): string {
  const hash = createHash('sha256').update(`${run.accountUid}/${run.action}/${run.generation}/${run.attempt}`).digest('hex').slice(0, 8);
  const suffix = `-${run.action}-${hash}`;
  // Job names become the pod label job-name (63 characters) and pod names add 6.
  const room = 52 - suffix.length;
  return `${run.accountName.slice(0, room).replace(/[-.]+$/, '')}${suffix}`;
}

export const RUN_LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  component: 'app.kubernetes.io/component',
  accountUid: 'mfa-operator.io/account-uid',
  account: 'mfa-operator.io/account',
  connector: 'mfa-operator.io/connector',
  action: 'mfa-operator.io/action',
  generation: 'mfa-operator.io/generation',
  attempt: 'mfa-operator.io/attempt',
} as const;

export const RUN_ANNOTATIONS = {
  trigger: 'mfa-operator.io/trigger',
  credentialsVersion: 'mfa-operator.io/credentials-resource-version',
  harvested: 'mfa-operator.io/harvested',
} as const;
