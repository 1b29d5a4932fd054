import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { dirname, join } from 'node:path';
import {
  CLUSTER_MFA_SECRET_STORE,
  MFA_SECRET_STORE,
  credentialsOptedIn,
  objectKey,
  splitKey,
} from './api/v1alpha1/resources.ts';
import { applyLoginHostFlags, type OperatorConfig } from './config.ts';
import { JobAutomationDriver } from './automation/job-driver.ts';
import type { RunCodeService } from './automation/run-objects.ts';
import type { CodeServiceConfig } from './codes/config.ts';
import { connectorEnvFrom, loadRunnerSettings, type RunnerSettings } from './automation/runner-settings.ts';
import { ConfiguredStores } from './stores/configured-stores.ts';
import { startCodeService } from './codes/start.ts';
import { connectors, connectorSettingsEnv } from '../connectors/index.ts';
import { noAutomation, type AutomationDriver } from './controller/managedaccountmfa/automation.ts';
import { createInformers, dependents, type MfaInformers } from './controller/managedaccountmfa/informers.ts';
import { ManagedAccountMfaReconciler } from './controller/managedaccountmfa/reconciler.ts';
import { parseStoreKey, storeKey } from './controller/secretstore/keys.ts';
import { SecretStoreReconciler } from './controller/secretstore/reconciler.ts';
import { Controller } from './controller/runtime/controller.ts';
import { EventRecorder } from './controller/runtime/events.ts';
import { LeaderElector } from './controller/runtime/leader-election.ts';
import { startProbeServer } from './http/probe-server.ts';
import { createClients, loadKubeConfig, readCustom, type KubeClients } from './kube/clients.ts';
import { pooledKubeConfig } from './kube/pooled-kube-config.ts';
import type { Logger } from '../core/logging/logger.ts';
import { createMetrics, type OperatorMetrics } from './metrics/metrics.ts';
import { countAccounts } from './metrics/account-gauges.ts';

const CONTROLLER_NAME = 'managedaccountmfa';
const STORE_REVALIDATE_MS = 5 * 60_000;
/** After a resource changes, the account gauges are recounted within this (one recount for a burst of changes). */
const RECOUNT_AFTER_CHANGE_MS = 1_000;

/** Wires informers, the work queue and the reconciler; runs them only while this instance leads. */
export class OperatorManager {
  readonly #config: OperatorConfig;
  readonly #log: Logger;
  readonly #metrics: OperatorMetrics = createMetrics();
  readonly #clients: KubeClients;
  /** One connection pool for every API call and watch (see pooled-kube-config.ts); closed on stop. */
  readonly #connections: ReturnType<typeof pooledKubeConfig>;
  readonly #shutdown = new AbortController();
  /** Settles when stop() is called, also for whoever waits only after that (a SIGTERM during start-up). */
  readonly #stopped = new Promise<void>((resolve) =>
    this.#shutdown.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  #informers?: MfaInformers;
  readonly #runner?: RunnerSettings;
  readonly #stores: ConfiguredStores;
  #controller?: Controller;
  #storeController?: Controller;
  #events?: EventRecorder;
  #elector?: LeaderElector;
  #server?: Server;
  #synced = false;
  /** The code service's accounts and seeds are in memory (true when it is not configured). */
  #codesWarm: () => boolean = () => true;
  #resync?: NodeJS.Timeout;
  #recount?: NodeJS.Timeout;

  constructor(config: OperatorConfig, log: Logger) {
    this.#config = config;
    this.#log = log;
    this.#connections = pooledKubeConfig(loadKubeConfig(config.kubeconfig));
    this.#clients = createClients(this.#connections.kc);
    applyLoginHostFlags(config);
    this.#runner = config.runnerImage
      ? {
          ...loadRunnerSettings(config.runnerImage, config.runnerConfig),
          connectorEnv: connectorEnvFrom(connectorSettingsEnv, process.env),
        }
      : undefined;
    this.#stores = new ConfiguredStores({
      kc: this.#clients.kc,
      ...(config.gcpTestEndpoint ? { gcpTestEndpoint: config.gcpTestEndpoint } : {}),
      store: async (ns, name) =>
        this.#informers?.stores.get(name, ns) ?? readCustom(this.#clients, MFA_SECRET_STORE.plural, name, ns),
      clusterStore: async (name) =>
        this.#informers?.clusterStores.get(name) ?? readCustom(this.#clients, CLUSTER_MFA_SECRET_STORE.plural, name),
    });
  }

  /** Jobs when a runner image is configured; otherwise a driver that says no automation runs. */
  #automation(informers: MfaInformers): AutomationDriver {
    if (!this.#runner || !informers.jobs) return noAutomation;
    const jobs = informers.jobs;
    const labelledVersion = (name: string, namespace: string | undefined) => {
      const secret = informers.secrets.get(name, namespace);
      return secret && credentialsOptedIn(secret) ? secret.metadata?.resourceVersion : undefined;
    };
    return new JobAutomationDriver({
      core: this.#clients.core,
      batch: this.#clients.batch,
      rbac: this.#clients.rbac,
      jobs: () => jobs.list(),
      stores: this.#stores,
      settings: this.#runner,
      metrics: this.#metrics,
      log: this.#log,
      ...runCodeServiceOf(this.#config.codeService),
      credentialsVersion: (m) => labelledVersion(m.spec.account.credentialsSecretRef.name, m.metadata.namespace),
      adoptionSourceVersion: (m) => {
        const name = m.spec.mfa?.adoptFrom?.secretName;
        return name === undefined ? undefined : labelledVersion(name, m.metadata.namespace);
      },
    });
  }

  /** Runs until stop() or lost leadership; resolves with the process exit code. */
  async run(): Promise<number> {
    const stores = this.#stores;
    const { server, port } = await startProbeServer({
      port: this.#config.httpPort,
      registry: this.#metrics.registry,
      healthy: () => true,
      ready: () => !this.#shutdown.signal.aborted && this.#codesWarm() && (this.#synced || !this.#elector?.isLeader),
    });
    this.#server = server;
    this.#log.info({ port }, 'serving /healthz, /readyz and /metrics');
    if (this.#config.codeService) {
      // TOTP codes over HTTPS (operator/codes/): served by every replica, leader or not, until shutdown.
      const codeService = await startCodeService(this.#config.codeService, {
        kc: this.#clients.kc,
        registry: this.#metrics.registry,
        log: this.#log.child({ component: 'code-service' }),
        stores,
        identity: this.#config.identity,
        ...(this.#config.namespace ? { namespace: this.#config.namespace } : {}),
      });
      this.#codesWarm = () => codeService.warm;
      void this.#stopped.then(() => codeService.stop());
    }
    if (this.#config.leaderElect) {
      this.#elector = this.#createElector();
      if (!(await this.#elector.acquire(this.#shutdown.signal))) return 0;
      this.#metrics.isLeader.set(1);
    }
    await this.#startControllers();
    const keptLeadership = this.#elector
      ? await this.#elector.holdLeadership(this.#shutdown.signal)
      : await this.#untilShutdown();
    await this.#stopControllers();
    return keptLeadership ? 0 : 1;
  }

  /** Graceful: finish in-flight reconciles, stop watches, hand the lease over. */
  stop(): void {
    this.#shutdown.abort();
  }

  async #startControllers(): Promise<void> {
    const informers = createInformers(this.#clients.kc, this.#log, this.#config.namespace, Boolean(this.#runner));
    this.#informers = informers;
    const automation = this.#automation(informers);
    // One recorder for both controllers: one queue, one token bucket per object; flushed on stop.
    const events = new EventRecorder({
      api: this.#clients.events,
      controller: 'mfa-operator.io/controller',
      instance: this.#config.identity,
      log: this.#log,
    });
    this.#events = events;
    const reconciler = new ManagedAccountMfaReconciler({
      custom: this.#clients.custom,
      cached: (ns, name) => informers.mfas.get(name, ns),
      lookups: {
        secret: (ns, name) => informers.secrets.get(name, ns),
        store: (ns, name) => informers.stores.get(name, ns),
        clusterStore: (name) => informers.clusterStores.get(name),
        namespace: (name) => informers.namespaces.get(name),
        knownConnector: (id) => connectors.has(id),
        connectorIds: () => connectors.ids(),
      },
      automation,
      events,
      log: this.#log,
    });
    const controller = new Controller({
      name: CONTROLLER_NAME,
      workers: this.#config.workers,
      log: this.#log,
      metrics: this.#metrics,
      sync: (key, signal) => {
        const { namespace, name } = splitKey(key);
        return reconciler.sync(namespace ?? 'default', name, signal);
      },
    });
    this.#controller = controller;
    this.#storeController = this.#createStoreController(informers, events);
    this.#routeEvents(informers, controller);
    await Promise.all(informers.all.map((i) => i.start()));
    // Caches may never sync (RBAC missing, API server down); a stop meanwhile must not wait for them.
    await Promise.race([Promise.all(informers.all.map((i) => i.synced())), this.#stopped]);
    if (this.#shutdown.signal.aborted) return;
    this.#synced = true;
    controller.start();
    this.#storeController.start();
    this.#resync = setInterval(() => this.#enqueueAll(), this.#config.resyncMs);
    this.#log.info(
      { workers: this.#config.workers, namespace: this.#config.namespace ?? '(all)' },
      'caches synced; reconciling',
    );
  }

  /** Keeps MfaSecretStore/ClusterMfaSecretStore status saying whether each store can be used. */
  #createStoreController(informers: MfaInformers, events: EventRecorder): Controller {
    const reconciler = new SecretStoreReconciler({
      custom: this.#clients.custom,
      cached: (kind, ns, name) =>
        kind === 'MfaSecretStore' ? informers.stores.get(name, ns) : informers.clusterStores.get(name),
      provider: (store, kind) => this.#stores.forStore(store, kind),
      events,
      revalidateMs: STORE_REVALIDATE_MS,
    });
    const controller = new Controller({
      name: 'secretstore',
      workers: 2,
      log: this.#log,
      metrics: this.#metrics,
      sync: (key) => {
        const { kind, namespace, name } = parseStoreKey(key);
        return reconciler.sync(kind, namespace, name);
      },
    });
    informers.stores.on({
      onChange: (s) => controller.queue.add(storeKey('MfaSecretStore', s.metadata.namespace, s.metadata.name)),
    });
    informers.clusterStores.on({
      onChange: (s) => controller.queue.add(storeKey('ClusterMfaSecretStore', undefined, s.metadata.name)),
    });
    return controller;
  }

  #routeEvents(informers: MfaInformers, controller: Controller): void {
    const enqueue = (keys: string[]) => keys.forEach((k) => controller.queue.add(k));
    const of = dependents(informers);
    informers.mfas.on({
      onChange: (m) => {
        controller.queue.add(objectKey(m.metadata.namespace, m.metadata.name));
        this.#recountSoon();
      },
    });
    informers.secrets.on({ onChange: (s) => enqueue(of.ofSecret(s)) });
    informers.stores.on({ onChange: (s) => enqueue(of.ofStore(s)) });
    informers.clusterStores.on({ onChange: (s) => enqueue(of.ofClusterStore(s)) });
    informers.namespaces.on({ onChange: (ns) => enqueue(of.ofNamespace(ns)) });
    informers.jobs?.on({ onChange: (job) => enqueue(of.ofJob(job)) });
    for (const informer of informers.all) {
      informer.on({
        onChange: () =>
          this.#metrics.informerRestarts.set(
            { resource: 'all' },
            informers.all.reduce((n, i) => n + i.restarts, 0),
          ),
      });
    }
  }

  #enqueueAll(): void {
    for (const m of this.#informers?.mfas.list() ?? [])
      this.#controller?.queue.add(objectKey(m.metadata.namespace, m.metadata.name));
    this.#countAccounts();
  }

  /**
   * A status write from elsewhere (a recovery code hand-out by any code-service replica, a harvest) reaches the
   * gauges within a second, not at the next resync: the RecoveryCodesLow alert follows the hand-out that caused it.
   */
  #recountSoon(): void {
    if (this.#recount) return;
    this.#recount = setTimeout(() => {
      this.#recount = undefined;
      this.#countAccounts();
    }, RECOUNT_AFTER_CHANGE_MS);
    this.#recount.unref();
  }

  /** The account gauges, recounted from the cache. */
  #countAccounts(): void {
    countAccounts(this.#metrics, this.#informers?.mfas.list() ?? [], new Date());
  }

  async #stopControllers(): Promise<void> {
    clearInterval(this.#resync);
    clearTimeout(this.#recount);
    await this.#controller?.stop();
    await this.#storeController?.stop();
    // Events the last reconciles queued are written while the connections are still open.
    await this.#events?.close();
    await Promise.all((this.#informers?.all ?? []).map((i) => i.stop()));
    await this.#elector?.release();
    await this.#stores.close();
    await this.#connections.close();
    this.#metrics.isLeader.set(0);
    await new Promise((resolve) => this.#server?.close(resolve));
    this.#log.info('stopped');
  }

  #createElector(): LeaderElector {
    const c = this.#config;
    return new LeaderElector({
      api: this.#clients.coordination,
      namespace: c.leaseNamespace,
      name: c.leaseName,
      identity: c.identity,
      leaseDurationMs: c.leaseDurationMs,
      renewDeadlineMs: c.renewDeadlineMs,
      retryPeriodMs: c.retryPeriodMs,
      log: this.#log,
    });
  }

  async #untilShutdown(): Promise<boolean> {
    await this.#stopped;
    return true;
  }
}

/** What runs are told of the code service (its URL and the CA to trust); nothing when it does not serve runs. */
function runCodeServiceOf(config: CodeServiceConfig | undefined): { codeService?: RunCodeService } {
  if (!config?.runUrl) return {};
  const beside = join(dirname(config.certPath), 'ca.crt');
  const caPath = config.runCaPath ?? (existsSync(beside) ? beside : config.certPath);
  return { codeService: { url: config.runUrl, caBundle: readFileSync(caPath, 'utf8'), audience: config.audience } };
}
