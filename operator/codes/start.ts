import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Server } from 'node:https';
import {
  AuthenticationV1Api,
  AuthorizationV1Api,
  CustomObjectsApi,
  EventsV1Api,
  type KubeConfig,
} from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { UsedTotpWindows } from '../../core/totp/totp-codes.ts';
import type { StoreResolver } from '../stores/store-resolver.ts';
import { createLogger, type Logger } from '../../core/logging/logger.ts';
import { AccountCodes } from './account-codes.ts';
import { CallerReview } from './caller-review.ts';
import { CodeIssuer } from './code-issuer.ts';
import { createCodeMetrics } from './code-metrics.ts';
import { CodeOutcomes } from './code-outcomes.ts';
import { LeaseRecords } from './lease-record.ts';
import { LeaseLoginWindows } from './login-windows.ts';
import { serveAggregatedApi, type ServedAggregatedApi } from './aggregated-serve.ts';
import { reloadEvery } from './tls-reload.ts';
import { listenCodeService, type CodeRequestLimits } from './code-service.ts';
import type { CodeServiceConfig } from './config.ts';
import { RateLimiter } from './rate-limiter.ts';
import { RecoveryCodes } from './recovery-codes.ts';
import { WatchedRunJobs } from './run-callers.ts';
import { LeaseRunCodeBudget, RUN_RECOVERY_CODES, type RunCodeBudget } from './run-code-budget.ts';
import { RunCodes, type RunRecoveryCodes } from './run-codes.ts';
import type { StoreProviderResolver } from './seed-source.ts';
import { WatchedSeedSource } from './watched-seeds.ts';

export interface CodeServiceDependencies {
  /** The operator's identity; pass a pooled one (kube/pooled-kube-config.ts), as the manager does. */
  kc: KubeConfig;
  registry: Registry;
  log: Logger;
  /** Finds each account's secret store (the same resolver the automation uses). */
  stores: StoreResolver;
  /** This replica's name (the operator's --identity), written on the Leases that record handed login codes. */
  identity?: string;
  /** Watch accounts and seed Secrets in this namespace only (the operator's --namespace). */
  namespace?: string;
  /** How long a seed read from a store that cannot be watched (GCP) is reused; default 5 s. */
  storeSeedCacheTtlMs?: number;
  /** How often the certificate files (and the aggregated API's requestheader CA) are re-read; default 60 s. */
  certReloadMs?: number;
  /** Where audit lines go; default a logger named mfa-operator.codes.audit on stdout. */
  audit?: Logger;
}

export interface RunningCodeService {
  readonly port: number;
  /** The aggregated API's port, when --code-service-aggregated-port is set. */
  readonly aggregatedPort?: number;
  /** For the connectors' login step in this process (loginSecondFactor). */
  readonly codes: AccountCodes;
  readonly outcomes: CodeOutcomes;
  /** True once the accounts and seeds are in memory; the replica reports ready only then. */
  readonly warm: boolean;
  stop(): Promise<void>;
}

const STORE_SEED_CACHE_TTL_MS = 5_000;

/** cert-manager renews the certificate in place; pick the new files up without a restart. */
const CERT_RELOAD_MS = 60_000;

/** Starts the HTTPS code service with the operator's identity for TokenReview and SubjectAccessReview. */
export async function startCodeService(
  config: CodeServiceConfig,
  deps: CodeServiceDependencies,
): Promise<RunningCodeService> {
  const kc = deps.kc;
  const watched = new WatchedSeedSource({
    kc,
    log: deps.log,
    providerFor: providerOf(deps.stores),
    storeCacheTtlMs: deps.storeSeedCacheTtlMs ?? STORE_SEED_CACHE_TTL_MS,
    ...(deps.namespace ? { namespace: deps.namespace } : {}),
  });
  watched.start();
  // Login windows and run budgets are shared by every replica through Leases; display codes never touch them.
  const identity = deps.identity ?? hostname();
  const records = new LeaseRecords({ kc, identity });
  // Its own memory of windows, not the process's: the Leases are the record, as for a replica in another process.
  const issuer = new CodeIssuer({
    maxLoginWaitSeconds: config.maxLoginWaitSeconds,
    usedWindows: new UsedTotpWindows(),
    sharedWindows: new LeaseLoginWindows(records),
  });
  const codes = new AccountCodes(watched, issuer);
  const outcomes = new CodeOutcomes(
    createCodeMetrics(deps.registry),
    deps.audit ?? createLogger('mfa-operator.codes.audit'),
  );
  const review = callerReview(kc, config);
  const limits = codeRequestLimits(config);
  const recovery = recoveryCodes(kc, deps, identity);
  // A run's recovery code is claimed as the human route claims one; its count is a Lease of its own.
  const served = runEndpoint(kc, deps, watched, issuer, {
    budget: new LeaseRunCodeBudget(records),
    recovery: { codes: recovery, budget: new LeaseRunCodeBudget(records, RUN_RECOVERY_CODES) },
  });
  const runs = served.runs;
  const tls = await readTls(config);
  const { server, port } = await listenCodeService(
    { review, limits, codes, runs, recovery, outcomes, log: deps.log },
    tls,
    config.port,
    config.host,
  );
  const reloadMs = deps.certReloadMs ?? CERT_RELOAD_MS;
  const reload = reloadCertificate(server, config, tls, reloadMs, deps.log);
  const aggregated = await aggregatedApi(kc, config, reloadMs, {
    review,
    perCaller: limits.perCaller,
    codes,
    recovery,
    outcomes,
    log: deps.log,
  });
  deps.log.info(
    {
      port,
      rateLimitPerMinute: config.ratePerMinute,
      sourceRateLimitPerMinute: config.sourceRatePerMinute,
      tokenReviewRateLimitPerMinute: config.tokenReviewRatePerMinute,
      reviewCacheTtlMs: config.reviewCacheTtlMs,
      audience: config.audience,
    },
    'serving TOTP codes over HTTPS',
  );
  return {
    port,
    ...(aggregated ? { aggregatedPort: aggregated.port } : {}),
    codes,
    outcomes,
    get warm() {
      return watched.warm && served.warm();
    },
    stop: async () => {
      await stopServer(server, reload);
      await aggregated?.stop();
      await watched.stop();
      await served.jobs.stop();
    },
  };
}

/** Claimed on the resource's status, which every replica and the controller write with a resourceVersion. */
function recoveryCodes(kc: KubeConfig, deps: CodeServiceDependencies, identity: string): RecoveryCodes {
  return new RecoveryCodes({
    custom: kc.makeApiClient(CustomObjectsApi),
    events: kc.makeApiClient(EventsV1Api),
    providerFor: async (account) => (await deps.stores.forAccount(account)).provider,
    log: deps.log,
    identity,
  });
}

/** The same issuer, limits, reviews and claims, behind kube-apiserver's front proxy on a port of its own. */
async function aggregatedApi(
  kc: KubeConfig,
  config: CodeServiceConfig,
  reloadMs: number,
  parts: Parameters<typeof serveAggregatedApi>[1],
): Promise<ServedAggregatedApi | undefined> {
  if (config.aggregatedPort === undefined) return undefined;
  return serveAggregatedApi(
    kc,
    parts,
    () => readTls(config),
    { port: config.aggregatedPort, host: config.host, reloadMs },
    parts.log,
  );
}

/** Who may ask: TokenReview and SubjectAccessReview as the operator, cached, new tokens reviewed at a bounded rate. */
function callerReview(kc: KubeConfig, config: CodeServiceConfig): CallerReview {
  return new CallerReview({
    authentication: kc.makeApiClient(AuthenticationV1Api),
    authorization: kc.makeApiClient(AuthorizationV1Api),
    cacheTtlMs: config.reviewCacheTtlMs,
    audience: config.audience,
    tokenReviews: new RateLimiter(
      { perMinute: config.tokenReviewRatePerMinute, burst: config.tokenReviewBurst },
      {
        describe: () => 'new tokens to review across all callers',
        maxKeys: 1,
      },
    ),
  });
}

/** Re-reads the certificate files every `reloadMs` and serves the new pair when they changed (tls-reload.ts). */
function reloadCertificate(
  server: Server,
  config: CodeServiceConfig,
  tls: { cert: string; key: string },
  reloadMs: number,
  log: Logger,
) {
  return reloadEvery(
    reloadMs,
    {
      initial: tls,
      read: () => readTls(config),
      same: (a, b) => a.cert === b.cert && a.key === b.key,
      apply: (next) => server.setSecureContext({ cert: next.cert, key: next.key }),
      what: 'code service certificate',
    },
    log,
  );
}

/** Runs are served only with the watches: a run's Job and its account are checked from them. */
function runEndpoint(
  kc: KubeConfig,
  deps: CodeServiceDependencies,
  seeds: WatchedSeedSource,
  issuer: CodeIssuer,
  spending: { budget: RunCodeBudget; recovery: RunRecoveryCodes },
) {
  const jobs = new WatchedRunJobs(kc, deps.log, deps.namespace);
  jobs.start();
  let warm = false;
  void jobs.synced().then(() => (warm = true));
  return { jobs, runs: new RunCodes(jobs, seeds, issuer, spending.budget, spending.recovery), warm: () => warm };
}

function codeRequestLimits(config: CodeServiceConfig): CodeRequestLimits {
  return {
    perSource: new RateLimiter(
      { perMinute: config.sourceRatePerMinute, burst: config.sourceBurst },
      { describe: (source) => `code requests from ${source}` },
    ),
    perCaller: new RateLimiter(
      { perMinute: config.ratePerMinute, burst: config.burst },
      { describe: (user) => `code requests from "${user}"` },
    ),
  };
}

function providerOf(stores: StoreResolver): StoreProviderResolver {
  return async (account) => (await stores.forAccount(account)).provider;
}

async function readTls(config: CodeServiceConfig): Promise<{ cert: string; key: string }> {
  const [cert, key] = await Promise.all([readFile(config.certPath, 'utf8'), readFile(config.keyPath, 'utf8')]);
  return { cert, key };
}

function stopServer(server: Server, reload: NodeJS.Timeout): Promise<void> {
  clearInterval(reload);
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
