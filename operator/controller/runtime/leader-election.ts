import { ApiException, V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../../../core/logging/logger.ts';
import { sleep } from './keyed-backoff.ts';

export interface LeaderElectionOptions {
  api: CoordinationV1Api;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: Logger;
}

/**
 * Leader election on a coordination.k8s.io Lease, as client-go's leaderelection: a lease held by another
 * is taken over only once its record has not changed for a lease duration of *local* time (no clock-skew
 * trust); the leader renews every retry period and steps down when it cannot renew within the deadline.
 */
export class LeaderElector {
  readonly #o: LeaderElectionOptions;
  #observed?: { key: string; at: number };
  #leading = false;

  constructor(options: LeaderElectionOptions) {
    this.#o = options;
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /** Resolves once this instance leads; undefined if the signal aborted first. */
  async acquire(signal: AbortSignal): Promise<boolean> {
    this.#o.log.info(
      { lease: `${this.#o.namespace}/${this.#o.name}`, identity: this.#o.identity },
      'waiting for leadership',
    );
    while (!signal.aborted) {
      if (await this.#tryAcquireOrRenew()) {
        this.#leading = true;
        this.#o.log.info({ identity: this.#o.identity }, 'became leader');
        return true;
      }
      await sleep(this.#o.retryPeriodMs, signal);
    }
    return false;
  }

  /** Renews until the signal aborts (resolves true) or a renewal deadline is missed (resolves false). */
  async holdLeadership(signal: AbortSignal): Promise<boolean> {
    let lastRenew = Date.now();
    while (!signal.aborted) {
      await sleep(this.#o.retryPeriodMs, signal);
      if (signal.aborted) break;
      if (await this.#tryAcquireOrRenew()) {
        lastRenew = Date.now();
      } else if (Date.now() - lastRenew > this.#o.renewDeadlineMs) {
        this.#leading = false;
        this.#o.log.error({ identity: this.#o.identity }, 'lost leadership: could not renew the lease in time');
        return false;
      }
    }
    return true;
  }

  /** Gives the lease up so a standby takes over at once instead of after a lease duration. */
  async release(): Promise<void> {
    if (!this.#leading) return;
    this.#leading = false;
    try {
      const lease = await this.#read();
      if (lease?.spec?.holderIdentity !== this.#o.identity) return;
      lease.spec.holderIdentity = undefined;
      lease.spec.leaseDurationSeconds = 1;
      lease.spec.renewTime = new V1MicroTime();
      await this.#o.api.replaceNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace, body: lease });
      this.#o.log.info({ identity: this.#o.identity }, 'released leadership');
    } catch (err: unknown) {
      this.#o.log.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'could not release the lease; a standby takes over when it expires',
      );
    }
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    try {
      const lease = await this.#read();
      if (!lease) return await this.#create();
      return await this.#takeOrRenew(lease);
    } catch (err: unknown) {
      if (err instanceof ApiException && err.code === 409) return false;
      this.#o.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'lease update failed');
      return false;
    }
  }

  async #takeOrRenew(lease: V1Lease): Promise<boolean> {
    const spec = lease.spec ?? {};
    if (this.#heldByAnotherAndFresh(lease)) return false;
    const mine = spec.holderIdentity === this.#o.identity;
    lease.spec = {
      ...spec,
      holderIdentity: this.#o.identity,
      leaseDurationSeconds: Math.ceil(this.#o.leaseDurationMs / 1000),
      renewTime: new V1MicroTime(),
      acquireTime: mine && spec.acquireTime ? new V1MicroTime(spec.acquireTime) : new V1MicroTime(),
      leaseTransitions: mine ? spec.leaseTransitions : (spec.leaseTransitions ?? 0) + 1,
    };
    await this.#o.api.replaceNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace, body: lease });
    return true;
  }

  /** Expiry is judged by when this instance last saw the record change, not by the holder's clock. */
  #heldByAnotherAndFresh(lease: V1Lease): boolean {
    const spec = lease.spec ?? {};
    // client-node returns lease times as strings despite the V1MicroTime type.
    const recordKey = `${spec.holderIdentity}|${String(spec.renewTime)}|${lease.metadata?.resourceVersion}`;
    const now = Date.now();
    if (this.#observed?.key !== recordKey) this.#observed = { key: recordKey, at: now };
    const heldByOther = Boolean(spec.holderIdentity) && spec.holderIdentity !== this.#o.identity;
    return heldByOther && this.#observed.at + (spec.leaseDurationSeconds ?? 0) * 1000 > now;
  }

  async #create(): Promise<boolean> {
    const now = new V1MicroTime();
    await this.#o.api.createNamespacedLease({
      namespace: this.#o.namespace,
      body: {
        metadata: { name: this.#o.name, namespace: this.#o.namespace },
        spec: {
          holderIdentity: this.#o.identity,
          leaseDurationSeconds: Math.ceil(this.#o.leaseDurationMs / 1000),
          acquireTime: now,
          renewTime: now,
          leaseTransitions: 0,
        },
      },
    });
    return true;
  }

  async #read(): Promise<V1Lease | undefined> {
    try {
      return await this.#o.api.readNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace });
    } catch (err: unknown) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
  }
}
