import {
  ApiException,
  CoordinationV1Api,
  V1MicroTime,
  type KubeConfig,
  type V1Lease,
  type V1OwnerReference,
} from '@kubernetes/client-node';
import { CodeServiceError, isCodeServiceError } from './code-errors.ts';

/** One record: a Lease in the owner's namespace, garbage-collected with its owner, holding one annotation. */
export interface LeaseRecordTarget {
  readonly namespace: string;
  readonly name: string;
  readonly owner: V1OwnerReference;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotation: string;
}

export interface LeaseRecordOptions {
  kc: KubeConfig;
  /** Written as the Lease's holderIdentity: which replica wrote the record last. */
  identity: string;
  /** Longest one API call may take before the record counts as unavailable. Default 5 s. */
  callTimeoutMs?: number;
}

/** Conflicts (another replica wrote first) retried before giving up; each retry means someone else got through. */
const MAX_ATTEMPTS = 16;
const CALL_TIMEOUT_MS = 5_000;
/** Records last seen, so that a replica's next write usually costs one API call; a stale one only costs a 409. */
const MAX_CACHED = 10_000;

/**
 * A value shared by every replica, changed by compare-and-swap: read the Lease, let `next` decide the new value from
 * the recorded one, write it with the read resourceVersion, and on a 409 read again and ask again. A value is only
 * acted on once the API server has stored it, so a replica that dies after a write has used up what it wrote, never
 * handed it to two callers. Within one replica, writes to one record wait for each other, so only replicas contend.
 */
export class LeaseRecords {
  readonly #api: CoordinationV1Api;
  readonly #identity: string;
  readonly #timeoutMs: number;
  readonly #seen = new Map<string, V1Lease>();
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(options: LeaseRecordOptions) {
    this.#api = options.kc.makeApiClient(CoordinationV1Api);
    this.#identity = options.identity;
    this.#timeoutMs = options.callTimeoutMs ?? CALL_TIMEOUT_MS;
  }

  /**
   * Resolves with the value `next` chose once it is stored. `next` may run more than once (once per conflict) and
   * may throw to refuse (nothing is written then). API failures and timeouts reject with `LoginRecordUnavailable`.
   */
  update(target: LeaseRecordTarget, next: (recorded: string | undefined) => string): Promise<string> {
    const key = `${target.namespace}/${target.name}`;
    const run = (this.#queues.get(key) ?? Promise.resolve()).then(() => this.#update(key, target, next));
    const settled = run.catch(() => undefined);
    this.#queues.set(key, settled);
    void settled.then(() => {
      if (this.#queues.get(key) === settled) this.#queues.delete(key);
    });
    return run;
  }

  async #update(
    key: string,
    target: LeaseRecordTarget,
    next: (recorded: string | undefined) => string,
  ): Promise<string> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const lease = this.#seen.get(key) ?? (await this.#read(target));
      if (lease) refuseForeign(lease, target);
      const value = next(lease?.metadata?.annotations?.[target.annotation]);
      try {
        const written = lease ? await this.#replace(target, lease, value) : await this.#create(target, value);
        this.#remember(key, written);
        return value;
      } catch (e: unknown) {
        this.#seen.delete(key);
        // 409: another replica wrote first (or created it first); 404: deleted since it was read.
        if (e instanceof ApiException && (e.code === 409 || e.code === 404)) continue;
        throw unavailable(target, e);
      }
    }
    throw new CodeServiceError(
      'LoginRecordUnavailable',
      `The record ${target.namespace}/${target.name} changed ${MAX_ATTEMPTS} times while this request tried to write it; retry.`,
      1,
    );
  }

  async #read(target: LeaseRecordTarget): Promise<V1Lease | undefined> {
    try {
      return await this.#call(() => this.#api.readNamespacedLease({ namespace: target.namespace, name: target.name }));
    } catch (e: unknown) {
      if (e instanceof ApiException && e.code === 404) return undefined;
      throw unavailable(target, e);
    }
  }

  #replace(target: LeaseRecordTarget, lease: V1Lease, value: string): Promise<V1Lease> {
    // resourceVersion stays as read: the API server refuses the write with 409 if anyone wrote in between.
    const body: V1Lease = {
      ...lease,
      metadata: { ...lease.metadata, annotations: { ...lease.metadata?.annotations, [target.annotation]: value } },
      spec: { ...lease.spec, holderIdentity: this.#identity, renewTime: new V1MicroTime() },
    };
    return this.#call(() => this.#api.replaceNamespacedLease({ namespace: target.namespace, name: target.name, body }));
  }

  #create(target: LeaseRecordTarget, value: string): Promise<V1Lease> {
    const now = new V1MicroTime();
    return this.#call(() =>
      this.#api.createNamespacedLease({
        namespace: target.namespace,
        body: {
          metadata: {
            name: target.name,
            namespace: target.namespace,
            labels: { ...target.labels },
            annotations: { [target.annotation]: value },
            ownerReferences: [target.owner],
          },
          spec: { holderIdentity: this.#identity, acquireTime: now, renewTime: now },
        },
      }),
    );
  }

  /** A call that hangs (an API server that accepts and never answers) fails after the timeout; its late success is harmless. */
  async #call<T>(request: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    try {
      return await Promise.race([request(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  #remember(key: string, lease: V1Lease): void {
    this.#seen.delete(key);
    this.#seen.set(key, lease);
    if (this.#seen.size > MAX_CACHED) this.#seen.delete(this.#seen.keys().next().value as string);
  }
}

/** A Lease of that name that is not ours (another owner) is left alone: a record never overwrites what it does not own. */
function refuseForeign(lease: V1Lease, target: LeaseRecordTarget): void {
  if (lease.metadata?.ownerReferences?.some((o) => o.uid === target.owner.uid)) return;
  throw new CodeServiceError(
    'LoginRecordUnavailable',
    `The Lease ${target.namespace}/${target.name} is not owned by ${target.owner.kind} ${target.owner.name}; ` +
      'no login code is handed out until it is deleted.',
  );
}

function unavailable(target: LeaseRecordTarget, e: unknown): CodeServiceError {
  if (isCodeServiceError(e)) return e;
  // Only the status or the error code: an API server's message may quote the request body.
  const why =
    e instanceof ApiException
      ? `HTTP ${e.code}`
      : e instanceof Error && 'code' in e
        ? String(e.code)
        : e instanceof Error
          ? e.message
          : 'error';
  return new CodeServiceError(
    'LoginRecordUnavailable',
    `The record of handed-out login codes (Lease ${target.namespace}/${target.name}) cannot be read or written (${why}); ` +
      'no login code is handed out without it; retry shortly.',
    5,
  );
}
