import {
  ApiException,
  PatchStrategy,
  setHeaderOptions,
  type BatchV1Api,
  type CoreV1Api,
  type V1Secret,
} from '@kubernetes/client-node';
import { withHistoryEntry } from '../controller/status/history.ts';
import type {
  ManagedAccountMfa,
  RecoveryCodesStatus,
  RunRecord,
  TotpStatus,
  VerificationStatus,
} from '../api/v1alpha1/types.generated.ts';
import { rfc3339, type ConditionUpdate } from '../controller/status/conditions.ts';
import type { AutomationStep } from '../controller/managedaccountmfa/automation.ts';
import { isStoreError } from '../stores/store-error.ts';
import { planSeedHarvest, type ResultSeed, type StoreSeeds } from './harvest-plan.ts';
import { readRunResult, type RunResult } from '../run-contract/result-secret.ts';
import { outcomeConditions, regeneratedConditions } from './run-conditions.ts';
import { answeredRegenerateRequest } from './regenerate-trigger.ts';
import type { JobAction } from '../run-contract/run-spec.ts';
import { RUN_ANNOTATIONS, requestRecord } from './run-names.ts';
import { answeredVerifyRequest } from './verify-schedule.ts';
import type { AccountRef, SecretStoreProvider } from '../stores/provider.ts';
import type { RunOutcome } from '../run-contract/outcome.ts';
import { outcomeOf, type ObservedRun } from './run-observation.ts';
import { accountRef, materialRefs, type ResolvedStore, type StoreResolver } from '../stores/store-resolver.ts';
import type { RunCleanup } from './run-launcher.ts';
import type { OperatorMetrics } from '../metrics/metrics.ts';
import { verifyResult } from './verify-outcome.ts';
import { recoveryCodesRecord } from '../controller/status/recovery-codes.ts';
import { sameSeed } from '../stores/material.ts';
import { AdoptionSourceProblem, seedAdopted, type AdoptionSource } from './adoption-source.ts';

export interface HarvestDeps {
  core: CoreV1Api;
  batch: BatchV1Api;
  stores: StoreResolver;
  cleanup: RunCleanup;
  metrics: OperatorMetrics;
  now(): Date;
  /** spec.mfa.adoptFrom's Secret, read and checked (AdoptionSourceProblem when it is not usable); for adopt runs. */
  adoptionSource?(mfa: ManagedAccountMfa): Promise<AdoptionSource>;
}

/**
 * Moves what a finished run captured into the secret store (pending seed first, then promotion, then
 * recovery codes), records the run in status, and only after that status is written deletes the run's
 * result Secret and RBAC and marks the Job harvested. A crash anywhere repeats the harvest; every
 * store write is idempotent, so a repeat loses nothing and duplicates nothing.
 */
export async function harvestRun(deps: HarvestDeps, mfa: ManagedAccountMfa, run: ObservedRun): Promise<AutomationStep> {
  const namespace = mfa.metadata.namespace!;
  const pods = await deps.core.listNamespacedPod({ namespace, labelSelector: `job-name=${run.name}` });
  const outcome = outcomeOf(run, pods.items);
  const result = readRunResult(await readResultSecret(deps.core, namespace, run.name));
  const store = await deps.stores.forAccount(mfa);
  try {
    await moveMaterial(store.provider, accountRef(mfa), run.action, outcome, result);
    if (run.action === 'adopt') await settleAdoption(deps, mfa, store.provider, outcome);
    if (result.seed || result.adoptedSlot || result.recoveryCodes)
      deps.metrics.storeWrites.inc({ provider: store.provider.kind, result: 'success' });
  } catch (e: unknown) {
    if (!isStoreError(e)) throw e;
    deps.metrics.storeWrites.inc({ provider: store.provider.kind, result: 'failure' });
    return {
      conditions: [
        {
          type: 'SeedStored',
          status: 'False',
          reason: 'SecretStoreUnavailable',
          message: `${e.message} The material stays in the run's result Secret until the store accepts it.`,
        },
      ],
      requeueAfterMs: 15_000,
    };
  }
  const meta = await store.provider.readMetadata(accountRef(mfa));
  const stored = { seed: meta.active !== undefined, codes: meta.recoveryCodes?.count ?? 0 };
  observeOutcome(deps, mfa, run, outcome);
  const { conditions, status } =
    run.action === 'verify'
      ? verifiedStatus(mfa, run, outcome, store, meta, deps.now())
      : run.action === 'regenerate'
        ? regeneratedStatus(mfa, run, outcome, store, meta, stored)
        : {
            conditions: [
              ...outcomeConditions(run, outcome, store.description, stored),
              ...enrolledAgain(mfa, outcome),
              ...adoptedNow(mfa, run, outcome, stored),
            ],
            status: statusAfter(mfa, run, outcome, store, meta, deps.now()),
          };
  return {
    conditions,
    status,
    afterStatusWritten: async () => {
      await deps.cleanup.deleteRunObjects(namespace, run.name);
      await markHarvested(deps.batch, namespace, run.name, outcome);
    },
  };
}

function observeOutcome(deps: HarvestDeps, mfa: ManagedAccountMfa, run: ObservedRun, outcome: RunOutcome): void {
  const connector = mfa.spec.connector;
  if (run.action === 'verify')
    return deps.metrics.verificationRuns.inc({ connector, outcome: outcome.outcome, reason: outcome.reason });
  deps.metrics.enablementRuns.inc({ connector, outcome: outcome.outcome, reason: outcome.reason });
  if (outcome.outcome !== 'Enabled' || !mfa.metadata.creationTimestamp) return;
  const seconds = (deps.now().getTime() - new Date(mfa.metadata.creationTimestamp).getTime()) / 1000;
  deps.metrics.secondsToMfaEnabled.observe({ connector }, seconds);
}

/** Moves a run's material into the store along planSeedHarvest; exported for fault tests that play the harvest. */
export async function moveMaterial(
  provider: SecretStoreProvider,
  ref: AccountRef,
  action: JobAction,
  outcome: RunOutcome,
  result: RunResult,
): Promise<void> {
  const succeeded = outcome.outcome === 'Enabled' || outcome.outcome === 'Adopted';
  const stored = (result.seed || result.adoptedSlot) && action !== 'disable' ? await storeSeeds(provider, ref) : {};
  const plan = planSeedHarvest(action, succeeded, resultSeedOf(result), stored);
  if (plan.kind === 'writePending') {
    const pending = await provider.writePendingSeed(ref, result.seed!);
    if (plan.promote) await provider.promotePendingSeed(ref, pending.version);
  }
  // Only harvests write the store and one run of an account is active at a time, so this is the seed the run signed in with.
  if (plan.kind === 'promotePending')
    await provider.promotePendingSeed(ref, (await provider.readPendingSeed(ref))!.metadata.version);
  if (result.recoveryCodes) await provider.writeRecoveryCodes(ref, result.recoveryCodes);
  if (action === 'disable' && outcome.outcome === 'Disabled') await provider.delete(ref);
}

/**
 * The rest of an adoption, after moveMaterial promoted the seed the app took: the recovery codes of spec.mfa.adoptFrom's
 * Secret, if it still holds the seed now active (it may have changed or gone since the run started). A failed adoption
 * changed nothing on the app, so its candidate seed leaves the store (the Secret still has it), unless the store holds
 * an active seed or recovery codes this run did not write.
 */
async function settleAdoption(
  deps: HarvestDeps,
  mfa: ManagedAccountMfa,
  provider: SecretStoreProvider,
  outcome: RunOutcome,
): Promise<void> {
  const ref = accountRef(mfa);
  const active = await provider.readActiveSeed(ref);
  if (outcome.outcome === 'Failed') {
    const meta = await provider.readMetadata(ref);
    if (!meta.active && !meta.recoveryCodes) await provider.delete(ref);
    return;
  }
  if (!active || !deps.adoptionSource) return;
  let source: AdoptionSource;
  try {
    source = await deps.adoptionSource(mfa);
  } catch (e: unknown) {
    if (e instanceof AdoptionSourceProblem) return;
    throw e;
  }
  if (source.recoveryCodes && sameSeed(source.seed, active.seed))
    await provider.writeRecoveryCodes(ref, source.recoveryCodes);
}

function resultSeedOf(result: RunResult): ResultSeed {
  const { seed, seedState: state, adoptedSlot } = result;
  return { ...(seed ? { seed } : {}), ...(state ? { state } : {}), ...(adoptedSlot ? { adoptedSlot } : {}) };
}

async function storeSeeds(provider: SecretStoreProvider, ref: AccountRef): Promise<StoreSeeds> {
  const [active, pending] = [await provider.readActiveSeed(ref), await provider.readPendingSeed(ref)];
  return { ...(active ? { active: active.seed } : {}), ...(pending ? { pending: pending.seed } : {}) };
}

function statusAfter(
  mfa: ManagedAccountMfa,
  run: ObservedRun,
  outcome: RunOutcome,
  store: ResolvedStore,
  meta: StoreMetadata,
  now: Date,
): AutomationStep['status'] {
  const history = withHistoryEntry(mfa.status?.history, record(run, outcome));
  if (outcome.outcome === 'Disabled')
    return { history, mfaState: 'Disabled', totp: undefined, recoveryCodes: undefined };
  if (outcome.outcome === 'Failed')
    return {
      history,
      ...(outcome.reason === 'MfaAlreadyEnabled' || outcome.reason === 'AdoptionSeedRejected'
        ? { mfaState: 'Enabled' as const }
        : {}),
    };
  // MFA is on, but with no seed stored it is not enrolled: the next enable run finds it on and says what to do.
  if (!meta.active) return { history, mfaState: 'Enabled' };
  const refs = materialRefs(store, meta);
  const { algorithm, digits, period } = meta.active;
  return {
    history,
    mfaState: 'Enabled',
    ...driftEnded(mfa),
    totp: {
      store: refs.seed,
      algorithm,
      digits,
      period,
      enrolledAt:
        mfa.status?.totp?.enrolledAt && outcome.outcome === 'Adopted' ? mfa.status.totp.enrolledAt : rfc3339(now),
      ...rotatedFor(mfa, run),
    },
    ...codesStatus(mfa, refs.codes, meta),
  };
}

/** The stored codes' record; positions the code service handed out of the same set are kept. */
function codesStatus(
  mfa: ManagedAccountMfa,
  store: ReturnType<typeof materialRefs>['codes'],
  meta: StoreMetadata,
): Pick<AutomationStep, 'status'>['status'] {
  if (!meta.recoveryCodes) return {};
  const stored = meta.recoveryCodes;
  return {
    recoveryCodes: recoveryCodesRecord(mfa.status?.recoveryCodes, stored, { store, storedAt: stored.createdAt }),
  };
}

/** An enrolment ends a drift: MFA is on with the seed just stored. */
function driftEnded(mfa: ManagedAccountMfa): Pick<AutomationStep, 'status'>['status'] {
  if (!mfa.status?.verification) return {};
  const verification = { ...mfa.status.verification, failures: 0 };
  delete verification.drift;
  return { verification };
}

type StoreMetadata = Awaited<ReturnType<ResolvedStore['provider']['readMetadata']>>;

/** A verification's conditions and status (verify-outcome.ts); the seed's record follows the store, in case it promoted one. */
function verifiedStatus(
  mfa: ManagedAccountMfa,
  run: ObservedRun,
  outcome: RunOutcome,
  store: ResolvedStore,
  meta: StoreMetadata,
  now: Date,
): Pick<AutomationStep, 'conditions' | 'status'> {
  const result = verifyResult(mfa, run, outcome, now);
  const history = withHistoryEntry(mfa.status?.history, record(run, outcome));
  const totp = totpFollowingStore(mfa, store, meta);
  return {
    conditions: result.conditions,
    status: {
      history,
      verification: withAnsweredRequest(mfa, run, result.verification),
      ...(result.mfaState ? { mfaState: result.mfaState } : {}),
      ...(totp ? { totp } : {}),
    },
  };
}

/** The verification status with the request this run answered (its slot), else the one answered before. */
function withAnsweredRequest(
  mfa: ManagedAccountMfa,
  run: ObservedRun,
  verification: VerificationStatus,
): VerificationStatus {
  const requestedFor =
    answeredVerifyRequest(run.job.metadata?.annotations?.[RUN_ANNOTATIONS.verifySlot]) ??
    mfa.status?.verification?.requestedFor;
  return requestedFor === undefined ? verification : { ...verification, requestedFor };
}

/**
 * A regeneration's conditions and status: the recovery codes' record follows the store, so a new set (stored by
 * moveMaterial, even from a run that failed after writing it) has its version with none used, and the old set stays
 * recorded as it was when no new one came. The seed's record follows the store too, in case the run promoted one.
 */
function regeneratedStatus(
  mfa: ManagedAccountMfa,
  run: ObservedRun,
  outcome: RunOutcome,
  store: ResolvedStore,
  meta: StoreMetadata,
  stored: { seed: boolean; codes: number },
): Pick<AutomationStep, 'conditions' | 'status'> {
  const history = withHistoryEntry(mfa.status?.history, record(run, outcome));
  const totp = totpFollowingStore(mfa, store, meta);
  const codes = regeneratedCodes(mfa, run, outcome, store, meta);
  return {
    conditions: regeneratedConditions(run, outcome, store.description, stored),
    status: { history, ...(totp ? { totp } : {}), ...(codes ? { recoveryCodes: codes } : {}) },
  };
}

/** The codes' record after a regeneration; a success answers its annotation request (regeneratedFor). */
function regeneratedCodes(
  mfa: ManagedAccountMfa,
  run: ObservedRun,
  outcome: RunOutcome,
  store: ResolvedStore,
  meta: StoreMetadata,
): RecoveryCodesStatus | undefined {
  if (!meta.recoveryCodes) return mfa.status?.recoveryCodes;
  const answered =
    outcome.outcome === 'Failed'
      ? undefined
      : answeredRegenerateRequest(run.job.metadata?.annotations?.[RUN_ANNOTATIONS.regenerateRequest]);
  return recoveryCodesRecord(mfa.status?.recoveryCodes, meta.recoveryCodes, {
    store: materialRefs(store, meta).codes,
    storedAt: meta.recoveryCodes.createdAt,
    ...(answered !== undefined ? { regeneratedFor: answered } : {}),
  });
}

/** The seed's record with the store's reference and parameters, in case the run promoted a seed; as it was otherwise. */
function totpFollowingStore(mfa: ManagedAccountMfa, store: ResolvedStore, meta: StoreMetadata): TotpStatus | undefined {
  if (!mfa.status?.totp || !meta.active) return mfa.status?.totp;
  const { algorithm, digits, period } = meta.active;
  return { ...mfa.status.totp, store: materialRefs(store, meta).seed, algorithm, digits, period };
}

/** An enrolment proves the new seed: with spec.mfa.verify it counts as a check, and it ends a drift (a remediation). */
function enrolledAgain(mfa: ManagedAccountMfa, outcome: RunOutcome): ConditionUpdate[] {
  if (!mfa.spec.mfa?.verify || (outcome.outcome !== 'Enabled' && outcome.outcome !== 'Adopted')) return [];
  return [
    {
      type: 'MfaVerified',
      status: 'True',
      reason: 'Enrolled',
      message: 'MFA was turned on with a new seed, which the app accepted; the next verification counts from then.',
    },
  ];
}

/** An adopt run whose seed the store now holds: the SeedAdopted condition, which says the source Secret may go. */
function adoptedNow(
  mfa: ManagedAccountMfa,
  run: ObservedRun,
  outcome: RunOutcome,
  stored: { seed: boolean; codes: number },
): ConditionUpdate[] {
  return run.action === 'adopt' && outcome.outcome !== 'Failed' && stored.seed ? [seedAdopted(mfa, stored.codes)] : [];
}

/** A finished rotation records its request; any other enrolment keeps the request already answered. */
function rotatedFor(mfa: ManagedAccountMfa, run: ObservedRun): { rotatedFor?: string } {
  const asked = run.job.metadata?.annotations?.[RUN_ANNOTATIONS.rotateRequest];
  const request =
    run.action === 'rotate' ? (asked === undefined ? undefined : requestRecord(asked)) : mfa.status?.totp?.rotatedFor;
  return request === undefined ? {} : { rotatedFor: request };
}

function record(run: ObservedRun, outcome: RunOutcome): RunRecord {
  const startTime = run.job.status?.startTime ?? run.job.metadata?.creationTimestamp;
  return {
    job: run.name,
    trigger: run.job.metadata?.annotations?.[RUN_ANNOTATIONS.trigger] ?? 'Unknown',
    ...(startTime ? { startTime: rfc3339(new Date(startTime)) } : {}),
    ...(run.completionTime ? { completionTime: rfc3339(run.completionTime) } : {}),
    outcome: outcome.outcome,
    reason: outcome.reason,
    message: outcome.message.slice(0, 1024),
  };
}

async function readResultSecret(core: CoreV1Api, namespace: string, name: string): Promise<V1Secret | undefined> {
  try {
    return await core.readNamespacedSecret({ namespace, name });
  } catch (e: unknown) {
    if (e instanceof ApiException && e.code === 404) return undefined;
    throw e;
  }
}

async function markHarvested(batch: BatchV1Api, namespace: string, name: string, outcome: RunOutcome): Promise<void> {
  const value = JSON.stringify({
    outcome: outcome.outcome,
    reason: outcome.reason,
    retryable: outcome.retryable,
    retryAfterSeconds: outcome.retryAfterSeconds ?? 0,
  });
  try {
    await batch.patchNamespacedJob(
      { namespace, name, body: { metadata: { annotations: { [RUN_ANNOTATIONS.harvested]: value } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  } catch (e: unknown) {
    if (!(e instanceof ApiException && e.code === 404)) throw e;
  }
}
