import { ApiException, PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import { FINALIZER, GROUP, MANAGED_ACCOUNT_MFA, VERSION } from '../../api/v1alpha1/resources.ts';
import type { Condition, ManagedAccountMfa, ManagedAccountMfaStatus } from '../../api/v1alpha1/types.generated.ts';
import type { Logger } from '../../../core/logging/logger.ts';
import type { SyncResult } from '../runtime/controller.ts';
import type { EventRecorder } from '../runtime/events.ts';
import { setCondition, type ConditionUpdate } from '../status/conditions.ts';
import { recoveryCodesLow } from '../status/recovery-codes.ts';
import { replaceStatus } from '../status/replace-status.ts';
import type { AutomationDriver, AutomationStep } from './automation.ts';
import { plannedEvents, type PlannedEvent } from './condition-events.ts';
import { readyFrom } from './ready-condition.ts';
import {
  checkConnector,
  checkCredentials,
  checkSecretStore,
  type ReferenceCheck,
  type ReferenceLookups,
} from './references.ts';

/** A safety net only: the watch event of the reconciler's own write normally syncs the resource first. */
const CACHE_BEHIND_RECHECK_MS = 2_000;

export interface ReconcilerDeps {
  custom: CustomObjectsApi;
  cached(namespace: string, name: string): ManagedAccountMfa | undefined;
  lookups: ReferenceLookups;
  automation: AutomationDriver;
  events: EventRecorder;
  log: Logger;
  now?: () => Date;
}

/** The one sync entry point for ManagedAccountMfa: observed state in, status and Events out. */
export class ManagedAccountMfaReconciler {
  readonly #d: ReconcilerDeps;

  /**
   * The resourceVersion of this reconciler's last write per resource, until the cache has it. A sync that runs
   * before the watch delivers its own write would otherwise write the same status again on a stale
   * resourceVersion: a conflict, and a wasted write.
   */
  readonly #written = new Map<string, string>();

  constructor(deps: ReconcilerDeps) {
    this.#d = deps;
  }

  /** The cache has not caught up with this reconciler's last write: the watch event of that write will sync again. */
  #cacheBehind(key: string, cached: ManagedAccountMfa): boolean {
    const written = this.#written.get(key);
    if (written === undefined) return false;
    const behind = olderVersion(cached.metadata.resourceVersion, written);
    if (!behind) this.#written.delete(key);
    return behind;
  }

  #wrote(mfa: ManagedAccountMfa): ManagedAccountMfa {
    const { namespace, name, resourceVersion } = mfa.metadata;
    if (resourceVersion) this.#written.set(`${namespace}/${name}`, resourceVersion);
    return mfa;
  }

  async sync(namespace: string, name: string, signal: AbortSignal): Promise<SyncResult> {
    const key = `${namespace}/${name}`;
    let mfa = this.#d.cached(namespace, name);
    if (!mfa) {
      this.#written.delete(key);
      return {};
    }
    if (this.#cacheBehind(key, mfa)) return { requeueAfterMs: CACHE_BEHIND_RECHECK_MS };
    if (mfa.metadata.deletionTimestamp) return this.#finalize(mfa, signal);
    if (!mfa.metadata.finalizers?.includes(FINALIZER)) {
      mfa = this.#wrote(await this.#patchFinalizers(mfa, [...(mfa.metadata.finalizers ?? []), FINALIZER]));
    }
    const updates = this.#checkReferences(mfa);
    let step: AutomationStep = { conditions: [] };
    if (updates.every((u) => u.status === 'True')) step = await this.#d.automation.step(mfa, signal);
    await this.#apply(mfa, [...updates, ...step.conditions], step);
    return step.requeueAfterMs === undefined ? {} : { requeueAfterMs: step.requeueAfterMs };
  }

  /**
   * One status write (none when nothing changed), then its Events queued (never awaited: an Event is best effort),
   * then the step's follow-up work, so nothing is deleted before it is recorded.
   */
  async #apply(mfa: ManagedAccountMfa, updates: ConditionUpdate[], step: AutomationStep): Promise<void> {
    const { written, events } = await this.#writeStatus(mfa, updates, step.status ?? {}, step.events);
    for (const e of events) this.#d.events.record(asObject(written), e.type, e.reason, e.action, e.note);
    await step.afterStatusWritten?.();
  }

  #checkReferences(mfa: ManagedAccountMfa): ConditionUpdate[] {
    const connector = checkConnector(mfa, this.#d.lookups);
    const credentials = checkCredentials(mfa, this.#d.lookups);
    const credentialsCondition = connector.ok
      ? asCondition('CredentialsValid', credentials, 'CredentialsSecretFound')
      : asCondition('CredentialsValid', connector, '');
    return [
      credentialsCondition,
      asCondition('SecretStoreReady', checkSecretStore(mfa, this.#d.lookups), 'SecretStoreFound'),
    ];
  }

  async #finalize(mfa: ManagedAccountMfa, signal: AbortSignal): Promise<SyncResult> {
    if (!mfa.metadata.finalizers?.includes(FINALIZER)) return {};
    const step = await this.#d.automation.finalize(mfa, signal);
    if (!step.done) {
      await this.#apply(mfa, step.conditions, step);
      return step.requeueAfterMs === undefined ? {} : { requeueAfterMs: step.requeueAfterMs };
    }
    await step.afterStatusWritten?.();
    await this.#patchFinalizers(
      mfa,
      (mfa.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
    );
    this.#d.log.info({ resource: `${mfa.metadata.namespace}/${mfa.metadata.name}` }, 'finalized; finalizer removed');
    return {};
  }

  /** Writes status through the status subresource only when it changed; a conflict throws and requeues. */
  async #writeStatus(
    mfa: ManagedAccountMfa,
    updates: ConditionUpdate[],
    owned: Partial<ManagedAccountMfaStatus>,
    stepEvents: PlannedEvent[] = [],
  ): Promise<{ written: ManagedAccountMfa; events: PlannedEvent[] }> {
    const now = (this.#d.now ?? (() => new Date()))();
    const generation = mfa.metadata.generation ?? 0;
    const before = mfa.status ?? {};
    const conditions: Condition[] = structuredClone(before.conditions ?? []);
    for (const update of updates) setCondition(conditions, update, generation, now);
    const ready = readyFrom(conditions, mfa.spec.mfa?.state ?? 'Enabled');
    setCondition(conditions, ready, generation, now);
    // Fields the step does not own (the code service's record of handed-out recovery codes) are kept as read.
    const merged = { ...before, ...owned };
    setDerivedConditions(conditions, mfa, merged, generation, now);
    const status: ManagedAccountMfaStatus = { ...merged, observedGeneration: generation, conditions };
    if (JSON.stringify(status) === JSON.stringify(before)) return { written: mfa, events: stepEvents };
    const written = this.#wrote(await replaceStatus(this.#d.custom, mfa, status));
    return { written, events: plannedEvents(before.conditions ?? [], updates, ready, stepEvents) };
  }

  async #patchFinalizers(mfa: ManagedAccountMfa, finalizers: string[]): Promise<ManagedAccountMfa> {
    try {
      return (await this.#d.custom.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          plural: MANAGED_ACCOUNT_MFA.plural,
          namespace: mfa.metadata.namespace!,
          name: mfa.metadata.name!,
          body: { metadata: { finalizers, resourceVersion: mfa.metadata.resourceVersion } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as ManagedAccountMfa;
    } catch (err: unknown) {
      if (err instanceof ApiException && err.code === 404) return mfa;
      throw err;
    }
  }
}

/**
 * Whether resourceVersion a is older than b. etcd's versions are decimal integers, compared by length and then
 * digit by digit; anything else is not compared (treated as not older).
 */
export function olderVersion(a: string | undefined, b: string): boolean {
  if (a === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return a.length !== b.length ? a.length < b.length : a < b;
}

function asObject(mfa: ManagedAccountMfa): ManagedAccountMfa {
  return { ...mfa, apiVersion: `${GROUP}/${VERSION}`, kind: MANAGED_ACCOUNT_MFA.kind };
}

function asCondition(type: string, check: ReferenceCheck, okReason: string): ConditionUpdate {
  return check.ok
    ? { type, status: 'True', reason: okReason, message: check.message }
    : { type, status: 'False', reason: check.reason, message: check.message };
}

/** Conditions that follow from spec and status rather than from a step's finding. */
function setDerivedConditions(
  conditions: Condition[],
  mfa: ManagedAccountMfa,
  status: Partial<ManagedAccountMfaStatus>,
  generation: number,
  now: Date,
): void {
  // It follows each harvest, hand-out and threshold change.
  const low = recoveryCodesLow(mfa, status.recoveryCodes);
  if (low) setCondition(conditions, low, generation, now);
  else removeCondition(conditions, 'RecoveryCodesLow');
  // AdoptFromIgnored asks for spec.mfa.adoptFrom to be removed: once it is, the request is answered.
  if (!mfa.spec.mfa?.adoptFrom) removeCondition(conditions, 'SeedAdopted', 'AdoptFromIgnored');
}

/** Removes the condition of `type`, only while its reason is `reason` when one is given. */
function removeCondition(conditions: Condition[], type: string, reason?: string): void {
  const at = conditions.findIndex((c) => c.type === type && (reason === undefined || c.reason === reason));
  if (at >= 0) conditions.splice(at, 1);
}
