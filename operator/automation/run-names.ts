import { createHash } from 'node:crypto';
import type { JobAction } from '../run-contract/run-spec.ts';

/** Annotation that asks for a new seed: any new value starts one rotation. */
export const ROTATE_ANNOTATION = 'mfa-operator.io/rotate';
/**
 * Annotation that asks the app for a new set of recovery codes: any new value starts one regeneration
 * (status.recoveryCodes.regeneratedFor).
 */
export const REGENERATE_CODES_ANNOTATION = 'mfa-operator.io/regenerate-recovery-codes';
/** Annotation that asks for a verification now: any new value starts one verify run (status.verification.requestedFor). */
export const VERIFY_ANNOTATION = 'mfa-operator.io/verify';

/** The longest request value status records as it is (rotatedFor, requestedFor have maxLength 256). */
const RECORDED_REQUEST_MAX = 256;

/**
 * How status records an answered request: the annotation's value, or `sha256:<hex>` of it when it is longer than the
 * status schema takes. A request is pending while its record differs from the one status holds, so any length works
 * and a long value never makes the status write (and with it a harvest) fail.
 */
export function requestRecord(value: string): string {
  return value.length <= RECORDED_REQUEST_MAX ? value : `sha256:${createHash('sha256').update(value).digest('hex')}`;
}

export interface RunIdentity {
  accountName: string;
  accountUid: string;
  action: JobAction;
  generation: number;
  attempt: number;
  /**
   * A rotation request's annotation value, the base time of a verification, or a regeneration's request
   * (regenerate-trigger.ts): none bumps the generation, so it names the run.
   */
  request?: string;
}

/**
 * Deterministic, DNS-label-safe run names: the same account, action, generation and attempt always give
 * the same Job name, so a repeated reconcile finds its Job instead of creating a second one.
 */
export function runName(run: RunIdentity): string {
  const hash = createHash('sha256')
    .update(`${run.accountUid}/${run.action}/${run.generation}/${run.attempt}/${run.request ?? ''}`)
    .digest('hex')
    .slice(0, 8);
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
  request: 'mfa-operator.io/request',
} as const;

/** The operator's run Jobs, as the controller and the code service watch them. */
export const RUN_JOB_SELECTOR = `${RUN_LABELS.managedBy}=mfa-operator,${RUN_LABELS.component}=automation-run`;

/** A label-safe digest of a rotation request, so runs of one request are found by label. */
export function requestLabel(request: string | undefined): string {
  return request === undefined ? '' : createHash('sha256').update(request).digest('hex').slice(0, 16);
}

export const RUN_ANNOTATIONS = {
  trigger: 'mfa-operator.io/trigger',
  credentialsVersion: 'mfa-operator.io/credentials-resource-version',
  caBundleVersion: 'mfa-operator.io/ca-bundle-resource-version',
  adoptionSourceVersion: 'mfa-operator.io/adoption-source-resource-version',
  harvested: 'mfa-operator.io/harvested',
  rotateRequest: 'mfa-operator.io/rotate-request',
  regenerateRequest: 'mfa-operator.io/regenerate-request',
  verifySlot: 'mfa-operator.io/verify-slot',
} as const;
