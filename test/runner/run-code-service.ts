import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:https';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { V1Job } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { AccountCodes } from '../../operator/codes/account-codes.ts';
import type { CallerReview } from '../../operator/codes/caller-review.ts';
import { CodeServiceError } from '../../operator/codes/code-errors.ts';
import { CodeIssuer } from '../../operator/codes/code-issuer.ts';
import { createCodeMetrics } from '../../operator/codes/code-metrics.ts';
import { CodeOutcomes } from '../../operator/codes/code-outcomes.ts';
import { listenCodeService } from '../../operator/codes/code-service.ts';
import { RateLimiter } from '../../operator/codes/rate-limiter.ts';
import { RunCodes } from '../../operator/codes/run-codes.ts';
import { claimRecoveryCode, type RecoveryCodeClaim } from '../../operator/codes/recovery-codes.ts';
import type { ManagedAccountMfa } from '../../operator/api/v1alpha1/types.generated.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import type { RunJobs } from '../../operator/codes/run-callers.ts';
import { createLogger } from '../../core/logging/logger.ts';
import type { CodeServiceSpec } from '../../operator/run-contract/run-spec.ts';
import { CertificateDirectory } from '../envtest/certificates.ts';
import type { AccountRef, SecretStoreProvider } from '../../operator/stores/provider.ts';

/** The store's two seed slots, which is all the run endpoint reads: an in-memory store, or the real Kubernetes one. */
type SeedSlots = Pick<SecretStoreProvider, 'readPendingSeed' | 'readActiveSeed' | 'readRecoveryCodes'>;

/**
 * The operator's run endpoint for runner tests without an API server: the real HTTPS handler, run checks, budget and
 * code issuer, serving codes from a store's seed slots (in memory, or the real Kubernetes store). Only the API
 * server's parts are stand-ins: a token is "reviewed" by looking it up (one per run, naming the run's ServiceAccount),
 * each registered run's Job is unfinished, and a recovery code is claimed (claimRecoveryCode, the service's own rule)
 * on an in-memory copy of the account's status.
 */
export class RunCodeService {
  readonly store: SeedSlots;
  readonly lines: string[] = [];
  #server!: Server;
  #port = 0;
  #ca = '';
  readonly #dir: string;
  readonly #tokens = new Map<string, string>();
  readonly #runs = new Map<string, AccountRef>();
  readonly #actions = new Map<string, string>();
  /** The accounts' status as the claims left it, by uid. */
  readonly #accounts = new Map<string, ManagedAccountMfa>();

  private constructor(dir: string, store: SeedSlots) {
    this.#dir = dir;
    this.store = store;
  }

  static async start(dir: string, store: SeedSlots): Promise<RunCodeService> {
    const service = new RunCodeService(dir, store);
    await service.#listen();
    return service;
  }

  /**
   * A run Job of the account, its token file, and the run spec's codeService for it. `action` is the Job's action
   * label: only disable and rotate runs may get a recovery code.
   */
  async run(
    ref: AccountRef,
    job = `run-${randomBytes(4).toString('hex')}`,
    action?: 'enable' | 'disable' | 'verify' | 'rotate' | 'regenerate',
  ): Promise<CodeServiceSpec> {
    if (action) this.#actions.set(job, action);
    const token = randomBytes(24).toString('base64url');
    const tokenFile = join(this.#dir, `token-${job}`);
    await writeFile(tokenFile, token, { mode: 0o600 });
    this.#tokens.set(token, job);
    this.#runs.set(job, ref);
    return { url: `https://127.0.0.1:${this.#port}`, caBundle: this.#ca, tokenFile, namespace: ref.namespace, job };
  }

  /** The operator going down: connections refused until up(). */
  async down(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async up(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, '127.0.0.1', () => resolve());
    });
  }

  async stop(): Promise<void> {
    if (this.#server.listening) await this.down();
  }

  /** The recovery code positions claimed for the account (its status.recoveryCodes.used). */
  usedRecoveryCodes(ref: AccountRef): readonly number[] {
    return this.#accounts.get(ref.uid)?.status?.recoveryCodes?.used ?? [];
  }

  /** The account's status.history as the claims wrote it. */
  history(ref: AccountRef) {
    return this.#accounts.get(ref.uid)?.status?.history ?? [];
  }

  async #claim(claim: RecoveryCodeClaim, namespace: string, name: string) {
    const ref = { namespace, name, uid: claim.uid! };
    const stored = await this.store.readRecoveryCodes(ref);
    if (!stored) throw new CodeServiceError('NoRecoveryCodes', `no recovery codes for ${namespace}/${name}`);
    const mfa =
      this.#accounts.get(ref.uid) ??
      ({ metadata: { namespace, name, uid: ref.uid, generation: 1 }, spec: {}, status: {} } as ManagedAccountMfa);
    const claimed = claimRecoveryCode(mfa, stored, claim, new Date());
    this.#accounts.set(ref.uid, { ...mfa, status: claimed.status });
    return {
      code: new SecretValue(stored.codes.reveal()[claimed.index]!),
      index: claimed.index,
      remaining: claimed.remaining,
    };
  }

  /** Audit lines of the codes handed out (never the code). */
  auditRecords(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.audit === 'totp-code');
  }

  async #listen(): Promise<void> {
    const certificates = await CertificateDirectory.create(this.#dir);
    const ca = await certificates.createCertificateAuthority('run-code-service-ca');
    const serving = await certificates.issueServingCertificate('run-code-service', ca);
    this.#ca = await readFile(ca.certPath, 'utf8');
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        this.lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const log = createLogger('run-code-service', {}, sink);
    const issuer = new CodeIssuer();
    const review = {
      authenticate: async (token: { reveal(): string } | undefined) => {
        const job = token ? this.#tokens.get(token.reveal()) : undefined;
        if (!job) throw new CodeServiceError('Unauthenticated', 'unknown token');
        return {
          username: `system:serviceaccount:${this.#runs.get(job)!.namespace}:${job}`,
          groups: ['system:serviceaccounts'],
        };
      },
    } as unknown as CallerReview;
    const jobs: RunJobs = { job: async (namespace, name) => this.#job(namespace, name), pods: async () => [] };
    const seeds = {
      readRunSeed: async (account: AccountRef, slot: 'pending' | 'active') =>
        (slot === 'pending' ? await this.store.readPendingSeed(account) : await this.store.readActiveSeed(account))
          ?.seed,
    };
    const unlimited = () => new RateLimiter({ perMinute: 60_000, burst: 1_000 }, { describe: (k) => k });
    const tls = { cert: await readFile(serving.certPath), key: await readFile(serving.keyPath) };
    const { server, port } = await listenCodeService(
      {
        review,
        limits: { perSource: unlimited(), perCaller: unlimited() },
        codes: new AccountCodes(
          {
            readActiveSeed: async () => {
              throw new Error('not served here');
            },
          },
          issuer,
        ),
        runs: new RunCodes(jobs, seeds, issuer, undefined, {
          codes: { claim: (claim, namespace, name) => this.#claim(claim, namespace, name) },
        }),
        outcomes: new CodeOutcomes(createCodeMetrics(new Registry()), log),
        log,
      },
      tls,
      0,
      '127.0.0.1',
    );
    this.#server = server;
    this.#port = port;
  }

  #job(namespace: string, name: string): V1Job | undefined {
    const ref = this.#runs.get(name);
    if (!ref || ref.namespace !== namespace) return undefined;
    return {
      metadata: {
        name,
        namespace,
        uid: `job-${name}`,
        labels: {
          'app.kubernetes.io/managed-by': 'mfa-operator',
          'app.kubernetes.io/component': 'automation-run',
          'mfa-operator.io/account-uid': ref.uid,
          ...(this.#actions.has(name) ? { 'mfa-operator.io/action': this.#actions.get(name)! } : {}),
        },
        ownerReferences: [
          {
            apiVersion: 'mfa-operator.io/v1alpha1',
            kind: 'ManagedAccountMfa',
            name: ref.name,
            uid: ref.uid,
            controller: true,
          },
        ],
      },
      status: {},
    };
  }
}
