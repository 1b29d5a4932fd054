import {
  ApiException,
  type BatchV1Api,
  type CoreV1Api,
  type RbacAuthorizationV1Api,
  type V1Job,
} from '@kubernetes/client-node';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import type { AutomationDriver, AutomationStep, FinalizeStep } from '../controller/managedaccountmfa/automation.ts';
import { credentialsNotFound } from '../controller/managedaccountmfa/references.ts';
import type { Logger } from '../../core/logging/logger.ts';
import type { ConditionUpdate } from '../controller/status/conditions.ts';
import type { OperatorMetrics } from '../metrics/metrics.ts';
import { caBundleVersion, readCaBundle } from './ca-bundle-ref.ts';
import { harvestRun } from './harvest.ts';
import { decideRetry } from './retry-policy.ts';
import {
  ACTION_VERBS,
  failedConditions,
  finalizingConditions,
  regenerationConditions,
  runningConditions,
  waitingConditions,
} from './run-conditions.ts';
import { RunLauncher } from './run-launcher.ts';
import type { JobAction } from '../run-contract/run-spec.ts';
import { ROTATE_ANNOTATION, RUN_LABELS, requestLabel, requestRecord } from './run-names.ts';
import type { RunCodeService } from './run-objects.ts';
import { observeRun, type ObservedRun } from './run-observation.ts';
import type { RunnerSettings } from './runner-settings.ts';
import { accountRef, type StoreResolver } from '../stores/store-resolver.ts';
import { sameSeed } from '../stores/material.ts';
import {
  ADOPT_TRIGGER,
  adoptFromIgnored,
  adoptFromOf,
  AdoptionSourceProblem,
  readAdoptionSource,
  type AdoptionSource,
} from './adoption-source.ts';
import { driftHoldsEnable, remediates } from './verify-outcome.ts';
import { regenerateRequest } from './regenerate-trigger.ts';
import { decideVerify, InvalidVerifyIntervalError } from './verify-schedule.ts';

export interface JobDriverDeps {
  core: CoreV1Api;
  batch: BatchV1Api;
  rbac: RbacAuthorizationV1Api;
  /** The operator's run Jobs, from an informer cache (all namespaces it watches). */
  jobs(): readonly V1Job[];
  /**
   * resourceVersion of the resource's credentials Secret: a change re-arms a failed run. Undefined when the Secret
   * is missing or not labelled as credentials: then no run starts.
   */
  credentialsVersion(mfa: ManagedAccountMfa): string | undefined;
  /**
   * resourceVersion of spec.mfa.adoptFrom's Secret, from the same cache: undefined when it is missing or not labelled
   * as credentials. Its values are read (a GET) only right before an adopt run, and at its harvest.
   */
  adoptionSourceVersion?(mfa: ManagedAccountMfa): string | undefined;
  stores: StoreResolver;
  settings: RunnerSettings;
  /** Where runs get sign-in codes from the store's seeds; without it a run that may need one is not started. */
  codeService?: RunCodeService;
  metrics: OperatorMetrics;
  log: Logger;
  now?: () => Date;
}

const CAPACITY_RECHECK_MS = 15_000;
const CA_BUNDLE_RECHECK_MS = 60_000;
/** While deletion waits for a run, or right after harvesting one. */
const FINALIZE_RECHECK_MS = 5_000;
/** The longest a verification waits between looks at its schedule (timers of days are not kept that long). */
const VERIFY_RECHECK_MAX_MS = 3_600_000;

/**
 * Drives an account toward spec.mfa.state with one Job per run, working only from what it observes:
 * its Jobs (labels say account, action, generation, attempt), their outcomes and the store.
 */
export class JobAutomationDriver implements AutomationDriver {
  readonly #d: JobDriverDeps;
  readonly #launcher: RunLauncher;

  constructor(deps: JobDriverDeps) {
    this.#d = deps;
    this.#launcher = new RunLauncher(deps.core, deps.batch, deps.rbac);
  }

  async step(mfa: ManagedAccountMfa): Promise<AutomationStep> {
    const action = neededAction(mfa);
    const step = await this.#toward(mfa, action, triggerOf(mfa, action));
    // An account the operator holds a seed for is never adopted over: say so, unless this adoption is what enrolled it.
    if (!adoptFromOf(mfa) || !enrolled(mfa) || adoptedBefore(mfa)) return step;
    return {
      ...step,
      conditions: [...step.conditions, adoptFromIgnored(mfa, 'the operator enrolled the account already')],
    };
  }

  /**
   * Deletion never drops a seed the app may require: a finished run is harvested first and an active one waited for,
   * under both policies. Then Retain keeps MFA on and the material; Disable turns MFA off with whatever seed the store
   * holds (whatever status says), and the harvest of that run deletes the material.
   */
  async finalize(mfa: ManagedAccountMfa): Promise<FinalizeStep> {
    const runs = this.#runsOf(mfa);
    const unharvested = runs.find((r) => r.finished && !r.harvested);
    if (unharvested) {
      const step = await harvestRun(this.#harvestDeps(), mfa, unharvested);
      const done =
        deletionPolicy(mfa) === 'Disable'
          ? step.status?.mfaState === 'Disabled' && !runs.some((r) => !r.finished)
          : false;
      return { ...step, done, requeueAfterMs: step.requeueAfterMs ?? FINALIZE_RECHECK_MS };
    }
    const active = runs.find((r) => !r.finished);
    if (active) return { conditions: finalizingConditions(active), done: false, requeueAfterMs: FINALIZE_RECHECK_MS };
    if (deletionPolicy(mfa) === 'Retain') return { done: true, conditions: [] };
    const store = await this.#d.stores.forAccount(mfa);
    const ref = accountRef(mfa);
    if (!(await store.provider.readActiveSeed(ref)) && !(await store.provider.readPendingSeed(ref))) {
      return { done: true, conditions: [], afterStatusWritten: async () => store.provider.delete(ref) };
    }
    const step = await this.#toward(mfa, 'disable', 'Delete');
    return { ...step, done: step.status?.mfaState === 'Disabled' };
  }

  async #toward(mfa: ManagedAccountMfa, action: JobAction | undefined, trigger: string): Promise<AutomationStep> {
    const runs = this.#runsOf(mfa);
    const unharvested = runs.find((r) => r.finished && !r.harvested);
    if (unharvested) return harvestRun(this.#harvestDeps(), mfa, unharvested);
    const active = runs.find((r) => !r.finished);
    // A verification in progress changes no condition: they keep what the last runs found.
    if (active) return { conditions: active.action === 'verify' ? [] : activeConditions(active) };
    if (action === 'enable' && adoptFromOf(mfa)) return this.#adopt(mfa, trigger, runs);
    if (action === 'regenerate') return this.#regenerate(mfa, trigger, runs);
    return action ? this.#run(mfa, action, trigger, runs) : this.#verify(mfa, runs);
  }

  /**
   * A regeneration, with the retry policy and capacity limits of every run. One that waits for a person (it failed for
   * good, e.g. a connector that cannot regenerate) holds nothing else: the verification schedule goes on beside it.
   */
  async #regenerate(mfa: ManagedAccountMfa, trigger: string, runs: readonly ObservedRun[]): Promise<AutomationStep> {
    // A status read before the last harvest landed still asks for the request that run answered: wait for the write.
    const label = requestLabel(regenerateRequest(mfa)?.request);
    if (
      runs.some(
        (r) => r.action === 'regenerate' && r.request === label && r.harvested && r.harvested.outcome !== 'Failed',
      )
    )
      return { conditions: [], requeueAfterMs: FINALIZE_RECHECK_MS };
    const step = await this.#run(mfa, 'regenerate', trigger, runs);
    const regeneration = regenerationConditions(step.conditions);
    if (step.events?.length || step.requeueAfterMs !== undefined) return { ...step, conditions: regeneration };
    const verify = await this.#verify(mfa, runs);
    // Both may refuse for the same reason (credentials not opted in): that condition once.
    const told = new Set(regeneration.map((c) => c.type));
    return { ...verify, conditions: [...regeneration, ...verify.conditions.filter((c) => !told.has(c.type))] };
  }

  /**
   * spec.mfa.adoptFrom, while the operator holds no seed for the account: check the Secret's seed, write it to the
   * store's pending slot right before an adopt run (which signs in with that slot's codes and never gets the seed), and
   * let the harvest promote it once the app took a code. A store that holds a seed already is never adopted over.
   */
  async #adopt(mfa: ManagedAccountMfa, trigger: string, runs: readonly ObservedRun[]): Promise<AutomationStep> {
    const provider = (await this.#d.stores.forAccount(mfa)).provider;
    const ref = accountRef(mfa);
    const ignored = async (why: string) => {
      const step = await this.#run(mfa, 'enable', trigger, runs);
      return { ...step, conditions: [...step.conditions, adoptFromIgnored(mfa, why)] };
    };
    if (await provider.readActiveSeed(ref)) return ignored('the store holds a seed of this account already');
    let source: AdoptionSource;
    try {
      source = await this.#adoptionSource(mfa);
    } catch (e: unknown) {
      if (!(e instanceof AdoptionSourceProblem)) throw e;
      return { conditions: failedConditions(e.reason, e.message) };
    }
    const pending = await provider.readPendingSeed(ref);
    // A pending seed an earlier enable run left may be the one on the app: that run's adoption (enable) comes first.
    if (pending && !sameSeed(pending.seed, source.seed) && runs.at(-1)?.action !== 'adopt')
      return ignored('the store holds a pending seed of an earlier run, which the enable run tries first');
    return this.#run(mfa, 'adopt', ADOPT_TRIGGER, runs, async () => {
      await provider.writePendingSeed(ref, source.seed);
    });
  }

  /** The Secret of spec.mfa.adoptFrom, read with its values only when the cache (labelled Secrets only) has it. */
  async #adoptionSource(mfa: ManagedAccountMfa): Promise<AdoptionSource> {
    if (this.#d.adoptionSourceVersion?.(mfa) === undefined) return readAdoptionSource(mfa, undefined);
    const name = adoptFromOf(mfa)!.secretName;
    try {
      return readAdoptionSource(
        mfa,
        await this.#d.core.readNamespacedSecret({ namespace: mfa.metadata.namespace!, name }),
      );
    } catch (e: unknown) {
      if (e instanceof ApiException && e.code === 404) return readAdoptionSource(mfa, undefined);
      throw e;
    }
  }

  /** The next attempt of `action` for this generation (and rotation request), once retry policy and capacity allow it. */
  async #run(
    mfa: ManagedAccountMfa,
    action: JobAction,
    trigger: string,
    runs: readonly ObservedRun[],
    beforeLaunch?: () => Promise<void>,
  ): Promise<AutomationStep> {
    const generation = mfa.metadata.generation ?? 0;
    const request =
      action === 'rotate' ? rotateRequest(mfa) : action === 'regenerate' ? regenerateRequest(mfa)?.request : undefined;
    const previous = runs.filter(
      (r) => r.action === action && r.generation === generation && r.request === requestLabel(request),
    );
    const last = previous.at(-1);
    const waiting = last ? await this.#afterFailure(mfa, last, previous.length) : undefined;
    if (waiting) return waiting;
    const busy = this.#capacityProblem(mfa);
    if (busy) return { conditions: waitingConditions('WaitingForCapacity', busy), requeueAfterMs: CAPACITY_RECHECK_MS };
    const why = last?.harvested?.outcome === 'Failed' ? 'Retry' : action === 'rotate' ? 'Rotate' : trigger;
    return this.#launch(mfa, action, previous.length + 1, why, request, beforeLaunch);
  }

  /**
   * With spec.mfa.verify, a verification Job when one is due (verify-schedule.ts), within the same capacity limits as
   * every run. Waiting for it, or for capacity, changes no condition: the last check's result stands meanwhile.
   */
  async #verify(mfa: ManagedAccountMfa, runs: readonly ObservedRun[]): Promise<AutomationStep> {
    const now = this.#now();
    let decision: ReturnType<typeof decideVerify>;
    try {
      decision = decideVerify(
        mfa,
        now,
        this.#d.settings,
        runs.filter((r) => r.action === 'verify').at(-1)?.harvested?.retryAfterSeconds ?? 0,
      );
    } catch (e: unknown) {
      if (!(e instanceof InvalidVerifyIntervalError)) throw e;
      return { conditions: [{ type: 'MfaVerified', status: 'False', reason: e.reason, message: e.message }] };
    }
    if (decision.kind === 'off') return { conditions: [] };
    if (decision.kind === 'notDue')
      return {
        conditions: [],
        requeueAfterMs: Math.min(decision.dueAt.getTime() - now.getTime(), VERIFY_RECHECK_MAX_MS),
      };
    if (this.#capacityProblem(mfa)) return { conditions: [], requeueAfterMs: CAPACITY_RECHECK_MS };
    return this.#launch(mfa, 'verify', 1, decision.requested ? 'VerifyRequested' : 'Verify', decision.slot);
  }

  /** After a failed run: the step that waits (backoff, or for a person), or undefined to run again now. */
  async #afterFailure(
    mfa: ManagedAccountMfa,
    last: ObservedRun,
    attempts: number,
  ): Promise<AutomationStep | undefined> {
    if (last.harvested?.outcome !== 'Failed') return undefined;
    const versions = {
      credentials: this.#d.credentialsVersion(mfa),
      ...(mfa.spec.account.caBundleRef ? { caBundle: await caBundleVersion(this.#d.core, mfa) } : {}),
      ...(last.action === 'adopt' ? { adoptionSource: this.#d.adoptionSourceVersion?.(mfa) ?? '' } : {}),
    };
    const decision = decideRetry(last, attempts, versions, this.#d.settings, this.#now().getTime());
    if (decision.kind === 'now') return undefined;
    if (decision.kind === 'never')
      return { conditions: failedConditions(last.harvested.reason, `${lastMessage(mfa, last)} ${decision.why}`) };
    const seconds = Math.ceil(decision.waitMs / 1000);
    const message = `${lastMessage(mfa, last)} Retrying in ${seconds}s (attempt ${attempts + 1} of ${this.#d.settings.maxAttempts}).`;
    return { conditions: failedConditions(last.harvested.reason, message), requeueAfterMs: decision.waitMs };
  }

  async #launch(
    mfa: ManagedAccountMfa,
    action: JobAction,
    attempt: number,
    trigger: string,
    request?: string,
    beforeLaunch?: () => Promise<void>,
  ): Promise<AutomationStep> {
    // Every run mounts the credentials Secret, deletion's disable run too: never one the owner did not opt in.
    if (this.#d.credentialsVersion(mfa) === undefined) return { conditions: [credentialsRefused(mfa)] };
    // No watch on ConfigMaps: a refused bundle is read again after a while, besides on every spec change and resync.
    const ca = await readCaBundle(this.#d.core, mfa, this.#now());
    if (ca.kind === 'refused') return { conditions: [ca.condition], requeueAfterMs: CA_BUNDLE_RECHECK_MS };
    // A stored seed (the pending one a crashed run or a rotation may have left on the app, or the active one) reaches a
    // run only as codes from the code service, one at a time; without the service such a run is not started.
    const codeService = this.#d.codeService;
    if (!codeService && (await this.#mayNeedStoredSeed(mfa, action)))
      return { conditions: notStarted(action, 'CodeServiceRequired', codeServiceRequired(action)) };
    await beforeLaunch?.();
    const name = await this.#launcher.launch({
      mfa,
      trigger,
      settings: this.#d.settings,
      credentialsVersion: this.#d.credentialsVersion(mfa),
      ...this.#adoptionInput(mfa, action),
      ...(ca.kind === 'bundle' ? { caBundle: ca.bundle } : {}),
      run: {
        accountName: mfa.metadata.name!,
        accountUid: mfa.metadata.uid!,
        action,
        generation: mfa.metadata.generation ?? 0,
        attempt,
        ...(request !== undefined ? { request } : {}),
      },
      ...(codeService ? { codeService } : {}),
    });
    this.#d.log.info(
      { resource: `${mfa.metadata.namespace}/${mfa.metadata.name}`, job: name, action, attempt, trigger },
      'automation run started',
    );
    return {
      conditions:
        action === 'verify'
          ? []
          : waitingConditions('RunInProgress', `Job ${name} (attempt ${attempt}) started: ${ACTION_VERBS[action]}.`),
      events: [
        {
          type: 'Normal',
          reason: 'JobCreated',
          action: 'RunAutomation',
          note: `Created Job ${name}: ${ACTION_VERBS[action]} (trigger ${trigger}, attempt ${attempt}).`,
        },
      ],
    };
  }

  /** An adopt run always signs in with the store's pending seed; any other run when the store holds one. */
  async #mayNeedStoredSeed(mfa: ManagedAccountMfa, action: JobAction): Promise<boolean> {
    if (action === 'adopt') return true;
    const meta = await (await this.#d.stores.forAccount(mfa)).provider.readMetadata(accountRef(mfa));
    return Boolean(meta.active || meta.pending);
  }

  #adoptionInput(mfa: ManagedAccountMfa, action: JobAction): { adoptionSourceVersion?: string } {
    return action === 'adopt' ? { adoptionSourceVersion: this.#d.adoptionSourceVersion?.(mfa) ?? '' } : {};
  }

  #capacityProblem(mfa: ManagedAccountMfa): string | undefined {
    const active = this.#d
      .jobs()
      .map(observeRun)
      .filter((r) => !r.finished);
    const { maxConcurrentRuns, maxConcurrentRunsPerConnector } = this.#d.settings;
    if (active.length >= maxConcurrentRuns)
      return `${active.length} runs are active, the most the operator allows at once (maxConcurrentRuns); waiting.`;
    const sameApp = active.filter((r) => r.job.metadata?.labels?.[RUN_LABELS.connector] === mfa.spec.connector).length;
    if (sameApp >= maxConcurrentRunsPerConnector)
      return `${sameApp} runs against connector "${mfa.spec.connector}" are active (maxConcurrentRunsPerConnector); waiting.`;
    return undefined;
  }

  #runsOf(mfa: ManagedAccountMfa): ObservedRun[] {
    return this.#d
      .jobs()
      .filter(
        (j) =>
          j.metadata?.labels?.[RUN_LABELS.accountUid] === mfa.metadata.uid &&
          j.metadata?.namespace === mfa.metadata.namespace,
      )
      .map(observeRun)
      .sort(
        (a, b) =>
          Date.parse(String(a.job.metadata?.creationTimestamp)) -
            Date.parse(String(b.job.metadata?.creationTimestamp)) || a.attempt - b.attempt,
      );
  }

  #harvestDeps() {
    return {
      core: this.#d.core,
      batch: this.#d.batch,
      stores: this.#d.stores,
      cleanup: this.#launcher,
      metrics: this.#d.metrics,
      now: () => this.#now(),
      adoptionSource: (mfa: ManagedAccountMfa) => this.#adoptionSource(mfa),
    };
  }

  #now(): Date {
    return (this.#d.now ?? (() => new Date()))();
  }
}

function activeConditions(run: ObservedRun): ConditionUpdate[] {
  const running = runningConditions(run);
  return run.action === 'regenerate' ? regenerationConditions(running) : running;
}

function deletionPolicy(mfa: ManagedAccountMfa): 'Retain' | 'Disable' {
  return mfa.spec.deletionPolicy ?? 'Retain';
}

function codeServiceRequired(action: JobAction): string {
  return (
    `No run was started for ${ACTION_VERBS[action]}: the store holds a seed, and a run signs in with it only through codes ` +
    'from the code service, which is not serving runs. Start the operator with --code-service-port and --code-service-run-url ' +
    '(chart: codeService.enabled=true, the default); will not retry until then.'
  );
}

/** A run the operator cannot start; a verification's says so on MfaVerified, leaving the enrolment's record alone. */
function notStarted(action: JobAction, reason: string, message: string): ConditionUpdate[] {
  return action === 'verify'
    ? [{ type: 'MfaVerified', status: 'Unknown', reason, message }]
    : failedConditions(reason, message);
}

function credentialsRefused(mfa: ManagedAccountMfa): ConditionUpdate {
  const { reason, message } = credentialsNotFound(mfa);
  return { type: 'CredentialsValid', status: 'False', reason, message: `${message} No run was started.` };
}

/** From status: what must run for the account to reach spec.mfa.state; undefined when it is there. */
export function neededAction(mfa: ManagedAccountMfa): JobAction | undefined {
  if ((mfa.spec.mfa?.state ?? 'Enabled') === 'Disabled')
    return mfa.status?.mfaState === 'Enabled' ? 'disable' : undefined;
  // MFA found off by a verification is turned on again only with spec.mfa.onDrift: Remediate.
  if (!enrolled(mfa)) return driftHoldsEnable(mfa) ? undefined : 'enable';
  if (rotationRequested(mfa)) return 'rotate';
  // A rotation brings a new set as well, so a regeneration comes only after it.
  return regenerateRequest(mfa) ? 'regenerate' : undefined;
}

/** Why the run of `action` starts, for history (a retry says Retry instead). */
function triggerOf(mfa: ManagedAccountMfa, action: JobAction | undefined): string {
  if (action === 'enable' && remediates(mfa)) return 'Remediate';
  return action === 'regenerate' ? regenerateRequest(mfa)!.trigger : 'SpecChanged';
}

function enrolled(mfa: ManagedAccountMfa): boolean {
  return mfa.status?.mfaState === 'Enabled' && Boolean(mfa.status.totp?.enrolledAt);
}

function rotationRequested(mfa: ManagedAccountMfa): boolean {
  const request = rotateRequest(mfa);
  return request !== undefined && requestRecord(request) !== mfa.status?.totp?.rotatedFor;
}

function rotateRequest(mfa: ManagedAccountMfa): string | undefined {
  return mfa.metadata.annotations?.[ROTATE_ANNOTATION] || undefined;
}

/** Whether an adoption enrolled the account (its condition records it), so adoptFrom is done rather than ignored. */
function adoptedBefore(mfa: ManagedAccountMfa): boolean {
  return mfa.status?.conditions?.some((c) => c.type === 'SeedAdopted' && c.status === 'True') ?? false;
}

function lastMessage(mfa: ManagedAccountMfa, run: ObservedRun): string {
  const entry = mfa.status?.history?.find((h) => h.job === run.name);
  return entry?.message ? entry.message : `Job ${run.name} failed (${run.harvested?.reason}).`;
}
