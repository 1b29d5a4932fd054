import { randomBytes } from 'node:crypto';
import { ApiException, V1MicroTime, type CustomObjectsApi, type EventsV1Api } from '@kubernetes/client-node';
import type { Logger } from '../../core/logging/logger.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { GROUP, MANAGED_ACCOUNT_MFA, VERSION } from '../api/v1alpha1/resources.ts';
import { withHistoryEntry } from '../controller/status/history.ts';
import type { ManagedAccountMfa, ManagedAccountMfaStatus } from '../api/v1alpha1/types.generated.ts';
import { rfc3339, setCondition } from '../controller/status/conditions.ts';
import { recoveryCodesLow, recoveryCodesRecord } from '../controller/status/recovery-codes.ts';
import { replaceStatus } from '../controller/status/replace-status.ts';
import type { SecretStoreProvider, StoredRecoveryCodes } from '../stores/provider.ts';
import { isStoreError } from '../stores/store-error.ts';
import type { Caller } from './caller-review.ts';
import { CodeServiceError, isCodeServiceError } from './code-errors.ts';

/** The history's cap (the CRD's maxItems); the oldest entries go first. */
/** Claims lost to another writer (a replica's claim, the controller) before giving up with a 503. */
const CLAIM_ATTEMPTS = 5;

export type RecoveryCodeStoreResolver = (
  account: ManagedAccountMfa,
) => Promise<Pick<SecretStoreProvider, 'readRecoveryCodes'>>;

export interface RecoveryCodesOptions {
  custom: CustomObjectsApi;
  events: Pick<EventsV1Api, 'createNamespacedEvent'>;
  providerFor: RecoveryCodeStoreResolver;
  log: Logger;
  /** This replica's name, as the Events' reportingInstance. */
  identity: string;
  now?: () => Date;
}

/** Who a code goes to, and which one: the human route asks for the next; a run for the position its app names. */
export interface RecoveryCodeClaim {
  /** The caller, as TokenReview named them. */
  readonly user: string;
  /** A run's Job: named in the history entry's message and the Event. */
  readonly job?: string;
  /** The position the app asks for (from 0); otherwise the first unused one. */
  readonly index?: number;
  /** The account's uid the caller was granted (a run's Job names it): another resource of that name is refused. */
  readonly uid?: string;
}

export interface HandedOutCode {
  readonly code: SecretValue<string>;
  readonly index: number;
  readonly remaining: number;
}

/**
 * Hands out each stored recovery code at most once, on any replica: the first unused position is claimed in
 * the resource's status (an update with the read resourceVersion; a 409 means another writer came first, so it
 * reads again) and only then is its code read out. A crash after the claim loses that code, never repeats it.
 */
export class RecoveryCodes {
  readonly #o: RecoveryCodesOptions;
  /** Hand-outs for one account on this replica wait for each other, so only replicas race for a claim. */
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(options: RecoveryCodesOptions) {
    this.#o = options;
  }

  /** The human route: the first unused code, to an authorised caller. */
  handOut(caller: Caller, namespace: string, name: string): Promise<HandedOutCode> {
    return this.claim({ user: caller.username }, namespace, name);
  }

  /** Claims one code for `claim` (both routes, and a run's: the same record, the same order) and then reads it. */
  claim(claim: RecoveryCodeClaim, namespace: string, name: string): Promise<HandedOutCode> {
    const key = `${namespace}/${name}`;
    const next = (this.#queues.get(key) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.#claim(claim, namespace, name));
    this.#queues.set(key, next);
    const forget = () => {
      if (this.#queues.get(key) === next) this.#queues.delete(key);
    };
    next.then(forget, forget);
    return next;
  }

  async #claim(request: RecoveryCodeClaim, namespace: string, name: string): Promise<HandedOutCode> {
    let mfa = await this.#read(namespace, name, request.uid);
    const stored = await this.#stored(mfa);
    const codes = stored.codes.reveal();
    for (let attempt = 1; ; attempt++) {
      refuseWhileRegenerating(mfa, request);
      const claim = claimRecoveryCode(mfa, stored, request, (this.#o.now ?? (() => new Date()))());
      try {
        mfa = await replaceStatus(this.#o.custom, mfa, claim.status);
      } catch (e: unknown) {
        if (!(e instanceof ApiException) || e.code !== 409 || attempt >= CLAIM_ATTEMPTS) throw claimFailed(e);
        mfa = await this.#read(namespace, name, request.uid);
        continue;
      }
      this.#event(mfa, request, claim.index, claim.remaining);
      return { code: new SecretValue(codes[claim.index]!), index: claim.index, remaining: claim.remaining };
    }
  }

  async #read(namespace: string, name: string, uid?: string): Promise<ManagedAccountMfa> {
    let mfa: ManagedAccountMfa;
    try {
      mfa = (await this.#o.custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: MANAGED_ACCOUNT_MFA.plural,
        namespace,
        name,
      })) as ManagedAccountMfa;
    } catch (e: unknown) {
      if (e instanceof ApiException && e.code === 404)
        throw new CodeServiceError(
          'ManagedAccountMfaNotFound',
          `There is no ManagedAccountMfa ${name} in namespace ${namespace}.`,
        );
      throw claimFailed(e);
    }
    if (uid !== undefined && mfa.metadata.uid !== uid) {
      throw new CodeServiceError(
        'ManagedAccountMfaNotFound',
        `ManagedAccountMfa ${namespace}/${name} is not the account this run belongs to (it was deleted and re-created).`,
      );
    }
    return mfa;
  }

  async #stored(mfa: ManagedAccountMfa): Promise<StoredRecoveryCodes> {
    const { namespace = '', name = '', uid = '' } = mfa.metadata;
    let stored: StoredRecoveryCodes | undefined;
    try {
      stored = await (await this.#o.providerFor(mfa)).readRecoveryCodes({ namespace, name, uid });
    } catch (e: unknown) {
      if (!isStoreError(e)) throw e;
      // Store messages name objects, never stored values.
      if (e.reason !== 'NotFound')
        throw new CodeServiceError(
          'SecretStoreUnavailable',
          `The secret store of ${namespace}/${name} failed (${e.reason}); retry later.`,
          5,
        );
    }
    if (!stored || stored.codes.reveal().length === 0) {
      throw new CodeServiceError(
        'NoRecoveryCodes',
        `ManagedAccountMfa ${namespace}/${name} has no stored recovery codes: the app gave none at enrolment, or they were ` +
          'deleted. Annotate it with mfa-operator.io/regenerate-recovery-codes (or, for a connector that cannot regenerate ' +
          'codes, regenerate them on the app and re-enrol with mfa-operator.io/rotate) to store a new set.',
      );
    }
    return stored;
  }

  /** Best effort, after the claim: status.history is the record that cannot be lost. */
  #event(mfa: ManagedAccountMfa, claim: RecoveryCodeClaim, index: number, remaining: number): void {
    const now = (this.#o.now ?? (() => new Date()))();
    const { namespace = '', name = '', uid, resourceVersion } = mfa.metadata;
    this.#o.events
      .createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: `${name}.${now.getTime().toString(16)}${randomBytes(2).toString('hex')}`, namespace },
          eventTime: new V1MicroTime(now.getTime()),
          reportingController: `${GROUP}/code-service`,
          reportingInstance: this.#o.identity,
          type: 'Normal',
          reason: 'RecoveryCodeHandedOut',
          action: 'HandOutRecoveryCode',
          note: `Recovery code #${index + 1} (index ${index}) was handed out to ${recipient(claim)}; ${remaining} remain.`.slice(
            0,
            1024,
          ),
          regarding: {
            apiVersion: `${GROUP}/${VERSION}`,
            kind: MANAGED_ACCOUNT_MFA.kind,
            name,
            namespace,
            uid,
            resourceVersion,
          },
        },
      })
      .catch((e: unknown) =>
        this.#o.log.warn(
          { resource: `${namespace}/${name}`, status: e instanceof ApiException ? e.code : undefined },
          'recovery code hand-out Event not written; status.history has the record',
        ),
      );
  }
}

/** How long a person is told to wait while a regeneration runs: its sign-in and the app's new set take seconds. */
const REGENERATING_RETRY_SECONDS = 15;

/**
 * While a regenerate run is active the app is about to end every code of the stored set, so a person is not handed
 * one: they wait for a code of the new set. The claim is a write with the read resourceVersion, so a run that started
 * since the read makes the claim conflict and read again, and this sees it. A run's own fallback (disable, rotate)
 * never runs beside a regeneration of its account.
 */
function refuseWhileRegenerating(mfa: ManagedAccountMfa, request: RecoveryCodeClaim): void {
  if (request.job) return;
  const running = mfa.status?.conditions?.find(
    (c) => c.type === 'RecoveryCodesRegenerated' && c.status === 'Unknown' && c.reason === 'RunInProgress',
  );
  if (!running) return;
  const { namespace, name } = mfa.metadata;
  throw new CodeServiceError(
    'RecoveryCodesRegenerating',
    `The recovery codes of ManagedAccountMfa ${namespace}/${name} are being regenerated (${running.message}): every ` +
      `code of the stored set is about to stop working. Ask again in ${REGENERATING_RETRY_SECONDS} seconds for a code of the new set.`,
    REGENERATING_RETRY_SECONDS,
  );
}

/** "run JOB (user)" for a run, else the user. */
function recipient({ user, job }: RecoveryCodeClaim): string {
  return job ? `run ${job} (${user})` : user;
}

/**
 * The status with one position claimed, recorded in history and the condition: the one asked for, else the first
 * unused. UsedUp when none is left; AlreadyUsed when the one asked for was handed out before (never twice).
 */
export function claimRecoveryCode(
  mfa: ManagedAccountMfa,
  stored: StoredRecoveryCodes,
  claim: RecoveryCodeClaim,
  now: Date,
): { status: ManagedAccountMfaStatus; index: number; remaining: number } {
  const before = mfa.status ?? {};
  const count = stored.codes.reveal().length;
  const record = recoveryCodesRecord(
    before.recoveryCodes,
    { count, version: stored.metadata.version },
    {
      ...(before.recoveryCodes?.store ? { store: before.recoveryCodes.store } : {}),
      storedAt: before.recoveryCodes?.storedAt ?? stored.metadata.createdAt,
    },
  );
  const used = new Set(record.used);
  const { namespace, name } = mfa.metadata;
  if (claim.index !== undefined) return claimed(mfa, record, askedFor(mfa, used, count, claim.index), claim, now);
  let index = 0;
  while (used.has(index)) index++;
  if (index >= count) {
    throw new CodeServiceError(
      'RecoveryCodesUsedUp',
      `All ${count} stored recovery codes of ${namespace}/${name} have been handed out. Annotate it with ` +
        'mfa-operator.io/regenerate-recovery-codes (or set spec.mfa.recoveryCodes.regenerate: WhenLow) to store a new ' +
        'set; no code was handed out.',
    );
  }
  return claimed(mfa, record, index, claim, now);
}

/** The position an app asks for, if it may be handed out: within the stored set, and never handed out before. */
function askedFor(mfa: ManagedAccountMfa, used: ReadonlySet<number>, count: number, index: number): number {
  const { namespace, name } = mfa.metadata;
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new CodeServiceError(
      'BadRequest',
      `index must be a position from 0 to ${count - 1}: ${namespace}/${name} has ${count} stored recovery codes.`,
    );
  }
  if (used.has(index)) {
    throw new CodeServiceError(
      'RecoveryCodeAlreadyUsed',
      `Recovery code #${index + 1} (index ${index}) of ${namespace}/${name} was handed out before (status.recoveryCodes.used) ` +
        'and is never handed out twice, yet the app asks for it: whoever got it did not use it. Sign in with it by hand ' +
        'if you hold it, or regenerate the codes on the app and re-enrol; no code was handed out.',
    );
  }
  return index;
}

function claimed(
  mfa: ManagedAccountMfa,
  record: ReturnType<typeof recoveryCodesRecord>,
  index: number,
  claim: RecoveryCodeClaim,
  now: Date,
): { status: ManagedAccountMfaStatus; index: number; remaining: number } {
  const before = mfa.status ?? {};
  const at = rfc3339(now);
  const recoveryCodes = {
    ...record,
    used: [...record.used!, index],
    remaining: record.remaining! - 1,
    lastHandedOutAt: at,
  };
  // An entry names a Job or a user, not both (the CRD's rule): a run's user is its ServiceAccount, named like its Job.
  const entry = {
    trigger: 'RecoveryCodeHandedOut',
    outcome: 'HandedOut',
    reason: 'RecoveryCodeHandedOut',
    user: claim.user.slice(0, 512),
    recoveryCodeIndex: index,
    completionTime: at,
    message: `Recovery code #${index + 1} handed out to ${recipient(claim)}; ${recoveryCodes.remaining} remain.`.slice(
      0,
      1024,
    ),
  };
  const conditions = structuredClone(before.conditions ?? []);
  const low = recoveryCodesLow(mfa, recoveryCodes);
  if (low) setCondition(conditions, low, mfa.metadata.generation ?? 0, now);
  return {
    status: {
      ...before,
      recoveryCodes,
      conditions,
      history: withHistoryEntry(before.history, entry),
    },
    index,
    remaining: recoveryCodes.remaining,
  };
}

/** The API server's error may carry the request body (the status), so it is not passed on. */
function claimFailed(e: unknown): CodeServiceError {
  if (isCodeServiceError(e)) return e;
  return new CodeServiceError(
    'RecoveryCodeClaimUnavailable',
    'The hand-out could not be recorded on the ManagedAccountMfa (API server unreachable or too busy); no code was handed out. Retry later.',
    2,
  );
}
