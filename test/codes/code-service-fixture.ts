import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { BatchV1Api, CustomObjectsApi, EventsV1Api, KubeConfig, type V1Job } from '@kubernetes/client-node';
import type { ManagedAccountMfa } from '../../operator/api/v1alpha1/types.generated.ts';
import { Registry } from 'prom-client';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import { startCodeService, type CodeServiceDependencies, type RunningCodeService } from '../../operator/codes/start.ts';
import { DEFAULT_CODE_SERVICE_AUDIENCE } from '../../operator/codes/audience.ts';
import type { CodeServiceConfig } from '../../operator/codes/config.ts';
import { pooledKubeConfig } from '../../operator/kube/pooled-kube-config.ts';
import { createLogger } from '../../core/logging/logger.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { KubernetesSecretStore } from '../../operator/stores/kubernetes/kubernetes-secret-store.ts';
import type { ControlPlane } from '../envtest/control-plane.ts';
import { CertificateDirectory, type KeyPair } from '../envtest/certificates.ts';
import { httpGet } from '../envtest/readiness.ts';
import { REPO, startClusterWithCrds } from '../support/cluster.ts';
import { kubectlOk } from '../support/kubectl.ts';
import { managedAccountMfa } from '../support/resources.ts';

/** The operator's identity in these tests: a user with exactly config/rbac/code_service_role.yaml. */
export const OPERATOR_USER = 'mfa-operator-code-service';

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): Record<string, unknown>;
}

/**
 * A control plane with the CRDs, the code service running in this process under the operator's
 * RBAC with real TLS, reading seeds from the real Kubernetes store. Every log line and response is kept so
 * tests can show that no seed ever leaves.
 */
export class CodeServiceFixture {
  cp!: ControlPlane;
  service!: RunningCodeService;
  ca!: string;
  caPath!: string;
  readonly registry = new Registry();
  readonly logLines: string[] = [];
  readonly answers: HttpsAnswer[] = [];
  #operatorStore!: KubernetesSecretStore;
  #adminStore!: KubernetesSecretStore;
  #deps!: CodeServiceDependencies;
  #serving!: KeyPair;
  readonly #services: RunningCodeService[] = [];
  #dir!: string;
  #operatorKubeconfig!: string;
  #connections?: ReturnType<typeof pooledKubeConfig>;

  async start(
    config: Partial<CodeServiceConfig> = {},
    controlPlane: Parameters<typeof startClusterWithCrds>[0] = {},
  ): Promise<void> {
    this.cp = await startClusterWithCrds(controlPlane);
    this.#dir = await mkdtemp(join(tmpdir(), 'mfa-codes-'));
    const certificates = await CertificateDirectory.create(this.#dir);
    const ca = await certificates.createCertificateAuthority('code-service-ca');
    const serving = await certificates.issueServingCertificate('code-service', ca);
    this.caPath = ca.certPath;
    this.ca = await readFile(ca.certPath, 'utf8');
    const admin = this.cp.kubeconfigPath;
    await kubectlOk(admin, ['apply', '-f', `${REPO}/config/rbac/code_service_role.yaml`]);
    await kubectlOk(admin, [
      'create',
      'clusterrolebinding',
      'code-service-under-test',
      '--clusterrole=mfa-operator-code-service-role',
      `--user=${OPERATOR_USER}`,
    ]);
    const kc = new KubeConfig();
    this.#operatorKubeconfig = await this.cp.createUser(OPERATOR_USER);
    kc.loadFromFile(this.#operatorKubeconfig);
    // Every call of the code service, its store included, shares one pool, as in the operator (bench/totp.ts measures with it).
    this.#connections = pooledKubeConfig(kc);
    this.#operatorStore = new KubernetesSecretStore(this.#connections.kc);
    this.#adminStore = new KubernetesSecretStore(this.cp.kubeConfig());
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        this.logLines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    this.#deps = {
      kc: this.#connections.kc,
      registry: this.registry,
      log: createLogger('code-service', {}, sink),
      audit: createLogger('code-audit', {}, sink),
      stores: {
        forAccount: async () => ({
          provider: this.#operatorStore,
          storeKind: 'Default',
          description: 'Kubernetes Secrets',
        }),
      },
    };
    this.#serving = serving;
    this.service = await this.startService(config);
  }

  /** Another code service on the same control plane, certificate and store (for comparing settings, or another identity). */
  async startService(
    config: Partial<CodeServiceConfig> = {},
    deps: Partial<CodeServiceDependencies> = {},
  ): Promise<RunningCodeService> {
    const service = await startCodeService(
      {
        port: 0,
        host: '127.0.0.1',
        certPath: this.#serving.certPath,
        keyPath: this.#serving.keyPath,
        ratePerMinute: 60,
        burst: 10,
        reviewCacheTtlMs: 10_000,
        maxLoginWaitSeconds: 35,
        // Every test request comes from loopback: the limits before authentication are tested on their own.
        sourceRatePerMinute: 60_000,
        sourceBurst: 1_000,
        tokenReviewRatePerMinute: 60_000,
        tokenReviewBurst: 1_000,
        audience: DEFAULT_CODE_SERVICE_AUDIENCE,
        ...config,
      },
      { ...this.#deps, registry: this.#services.length === 0 ? this.registry : new Registry(), ...deps },
    );
    this.#services.push(service);
    return service;
  }

  async stop(): Promise<void> {
    for (const service of this.#services) await service.stop();
    await this.#connections?.close();
    await this.cp?.stop();
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true });
  }

  /** A kubeconfig of the operator's identity (OPERATOR_USER), for a replica that reaches the API server its own way. */
  get operatorKubeconfig(): string {
    return this.#operatorKubeconfig;
  }

  /** The code service's serving certificate and key files (signed by `ca`). */
  get serving(): KeyPair {
    return this.#serving;
  }

  get url(): string {
    return `https://127.0.0.1:${this.service.port}`;
  }

  /** A namespace for accounts (the code service role lets the operator watch its seed Secrets). */
  async namespace(namespace: string): Promise<void> {
    await kubectlOk(this.cp.kubeconfigPath, ['create', 'namespace', namespace]);
  }

  /**
   * Creates a ManagedAccountMfa and stores its seed in the Kubernetes store as the automation
   * would: `active` writes and promotes it, `pending` leaves it unconfirmed.
   */
  async account(
    namespace: string,
    name: string,
    seed?: TotpSeed,
    state: 'active' | 'pending' = 'active',
  ): Promise<void> {
    await kubectlOk(this.cp.kubeconfigPath, ['apply', '-f', '-'], managedAccountMfa(name, namespace));
    if (!seed) return;
    await this.storeSeed(namespace, name, seed, state);
  }

  /** Writes a seed for an existing account as pending, and promotes it for `active` (a rotation when one was active). */
  async storeSeed(
    namespace: string,
    name: string,
    seed: TotpSeed,
    state: 'active' | 'pending' = 'active',
  ): Promise<void> {
    const ref = await this.#ref(namespace, name);
    const written = await this.#adminStore.writePendingSeed(ref, seed);
    if (state === 'active') await this.#adminStore.promotePendingSeed(ref, written.version);
  }

  /** Stores recovery codes for an existing account, as a harvest does. */
  async storeRecoveryCodes(namespace: string, name: string, codes: readonly string[]): Promise<void> {
    await this.#adminStore.writeRecoveryCodes(await this.#ref(namespace, name), new SecretValue(codes));
  }

  /** Removes the account's stored seed, as the store does when MFA is turned off. */
  async deleteSeed(namespace: string, name: string): Promise<void> {
    await this.#adminStore.delete(await this.#ref(namespace, name));
  }

  async #ref(namespace: string, name: string): Promise<{ namespace: string; name: string; uid: string }> {
    const uid = await kubectlOk(this.cp.kubeconfigPath, [
      'get',
      'mfa',
      name,
      '-n',
      namespace,
      '-o',
      'jsonpath={.metadata.uid}',
    ]);
    return { namespace, name, uid };
  }

  /** API requests the server has answered so far for one resource and verb (its own apiserver_request_total). */
  async apiRequestsServed(resource: string, verb: string): Promise<number> {
    const metrics = await httpGet(`${this.cp.server}/metrics`, this.cp.admin);
    return metrics.body
      .split('\n')
      .filter(
        (line) =>
          line.startsWith('apiserver_request_total{') &&
          line.includes(`resource="${resource}"`) &&
          line.includes(`verb="${verb}"`),
      )
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  }

  /** A ServiceAccount and a bearer token for it for the code service's audience, as `kubectl create token` mints them. */
  async serviceAccountToken(namespace: string, name: string): Promise<string> {
    await kubectlOk(this.cp.kubeconfigPath, ['create', 'serviceaccount', name, '-n', namespace]);
    return this.token(namespace, name);
  }

  /** Another token for an existing ServiceAccount; `audience: null` mints one for the API server's own audience. */
  async token(
    namespace: string,
    serviceAccount: string,
    audience: string | null = DEFAULT_CODE_SERVICE_AUDIENCE,
  ): Promise<string> {
    const audienceFlag = audience === null ? [] : [`--audience=${audience}`];
    return (
      await kubectlOk(this.cp.kubeconfigPath, [
        'create',
        'token',
        serviceAccount,
        '-n',
        namespace,
        '--duration=1h',
        ...audienceFlag,
      ])
    ).trim();
  }

  /**
   * A run Job of the account as the operator creates it (labels, owner), its ServiceAccount named like it, and a token
   * for it. `action` sets the Job's mfa-operator.io/action label (only disable and rotate runs get recovery codes).
   */
  async runJob(
    namespace: string,
    name: string,
    account: string,
    action?: 'enable' | 'disable' | 'verify' | 'rotate',
  ): Promise<{ job: V1Job; token: string }> {
    const uid = await kubectlOk(this.cp.kubeconfigPath, [
      'get',
      'mfa',
      account,
      '-n',
      namespace,
      '-o',
      'jsonpath={.metadata.uid}',
    ]);
    const job = await this.cp
      .kubeConfig()
      .makeApiClient(BatchV1Api)
      .createNamespacedJob({
        namespace,
        body: {
          metadata: {
            name,
            labels: {
              'app.kubernetes.io/managed-by': 'mfa-operator',
              'app.kubernetes.io/component': 'automation-run',
              'mfa-operator.io/account-uid': uid,
              ...(action ? { 'mfa-operator.io/action': action } : {}),
            },
            ownerReferences: [
              {
                apiVersion: 'mfa-operator.io/v1alpha1',
                kind: 'ManagedAccountMfa',
                name: account,
                uid,
                controller: true,
              },
            ],
          },
          spec: {
            template: {
              spec: {
                restartPolicy: 'Never',
                serviceAccountName: name,
                containers: [{ name: 'runner', image: 'runner:test' }],
              },
            },
          },
        },
      });
    return { job, token: await this.serviceAccountToken(namespace, name) };
  }

  /** The ManagedAccountMfa as the API server has it now (status included). */
  async readAccount(namespace: string, name: string): Promise<ManagedAccountMfa> {
    return (await this.cp.kubeConfig().makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
      group: 'mfa-operator.io',
      version: 'v1alpha1',
      plural: 'managedaccountmfas',
      namespace,
      name,
    })) as ManagedAccountMfa;
  }

  /** Marks a run Job Complete, as the Job controller does when its pod succeeded. */
  async finishJob(namespace: string, job: V1Job): Promise<void> {
    const now = new Date();
    const complete = { status: 'True', lastTransitionTime: now, reason: 'CompletionsReached', message: 'done' };
    await this.cp
      .kubeConfig()
      .makeApiClient(BatchV1Api)
      .replaceNamespacedJobStatus({
        namespace,
        name: job.metadata!.name!,
        body: {
          ...job,
          status: {
            startTime: now,
            succeeded: 1,
            completionTime: now,
            conditions: [
              { type: 'SuccessCriteriaMet', ...complete },
              { type: 'Complete', ...complete },
            ],
          },
        },
      });
  }

  /**
   * The recovery codes of `stored` found anywhere but in the one answer that handed each out: other answers (refusals
   * included), log lines, the namespace's Events and `resources` (the accounts, as JSON). `handedOut` counts the
   * codes answers handed out, so a scan that saw none cannot pass unnoticed.
   */
  async recoveryCodeLeaks(
    namespace: string,
    stored: readonly string[],
    resources: readonly string[],
  ): Promise<{ handedOut: number; leaked: string[] }> {
    const handedOut = new Set<string>();
    const rest: string[] = [];
    for (const answer of this.answers) {
      const own = handedOutCode(answer);
      if (own) handedOut.add(own);
      rest.push(own ? answer.body.replace(JSON.stringify(own), '""') : answer.body);
    }
    const events = await this.cp.kubeConfig().makeApiClient(EventsV1Api).listNamespacedEvent({ namespace });
    const everywhere = [...rest, ...this.logLines, ...resources, JSON.stringify(events)].join('\n');
    return { handedOut: handedOut.size, leaked: stored.filter((code) => everywhere.includes(code)) };
  }

  /** RBAC: get on managedaccountmfas/code, for the named resources only (or all in the namespace). */
  allowCodes(namespace: string, serviceAccount: string, resourceNames: readonly string[] = []): Promise<void> {
    return this.#allow(namespace, serviceAccount, `codes-${serviceAccount}`, 'get', 'code', resourceNames);
  }

  /** RBAC: create on managedaccountmfas/recovery-code, for the named resources only (or all in the namespace). */
  allowRecoveryCodes(namespace: string, serviceAccount: string, resourceNames: readonly string[] = []): Promise<void> {
    const role = `recovery-codes-${serviceAccount}`;
    return this.#allow(namespace, serviceAccount, role, 'create', 'recovery-code', resourceNames);
  }

  /** A Role granting one verb on one managedaccountmfas subresource, bound to the ServiceAccount. */
  async #allow(
    namespace: string,
    serviceAccount: string,
    role: string,
    verb: string,
    subresource: string,
    resourceNames: readonly string[],
  ): Promise<void> {
    await kubectlOk(this.cp.kubeconfigPath, [
      'create',
      'role',
      role,
      '-n',
      namespace,
      `--verb=${verb}`,
      `--resource=managedaccountmfas/${subresource}`,
      ...resourceNames.map((n) => `--resource-name=${n}`),
    ]);
    await kubectlOk(this.cp.kubeconfigPath, [
      'create',
      'rolebinding',
      role,
      '-n',
      namespace,
      `--role=${role}`,
      `--serviceaccount=${namespace}:${serviceAccount}`,
    ]);
  }

  /** POST over real HTTPS (recovery codes), kept for the leak check like every GET. */
  post(path: string, token?: string): Promise<HttpsAnswer> {
    return this.get(path, token, { method: 'POST' });
  }

  recoveryCodePath(namespace: string, name: string): string {
    return `/v1/namespaces/${namespace}/managedaccountmfas/${name}/recovery-code`;
  }

  /**
   * GET over real HTTPS, trusting only the test CA; every answer is kept for the leak check.
   * `localAddress` (any of 127.0.0.0/8) makes the request come from another source address.
   */
  get(
    path: string,
    token?: string,
    options: { localAddress?: string; service?: { port: number }; method?: 'GET' | 'POST' } = {},
  ): Promise<HttpsAnswer> {
    return new Promise((resolve, reject) => {
      const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
      const url = `https://127.0.0.1:${(options.service ?? this.service).port}${path}`;
      const from = options.localAddress ? { localAddress: options.localAddress } : {};
      const req = request(url, { ca: this.ca, headers, method: options.method ?? 'GET', ...from }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => {
          const answer = {
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: () => JSON.parse(body) as Record<string, unknown>,
          };
          this.answers.push(answer);
          resolve(answer);
        });
      });
      req.on('error', reject);
      req.end();
    });
  }

  codePath(namespace: string, name: string, query = ''): string {
    return `/v1/namespaces/${namespace}/managedaccountmfas/${name}/code${query}`;
  }

  /** TokenReviews the API server has answered so far (its own apiserver_request_total). */
  tokenReviewsServed(): Promise<number> {
    return this.apiRequestsServed('tokenreviews', 'POST');
  }

  auditRecords(): Record<string, unknown>[] {
    return this.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.audit === 'totp-code');
  }
}

/** The recovery code a 200 answer handed out (`{"code","index",...}`), if it is one. */
function handedOutCode(answer: HttpsAnswer): string | undefined {
  if (answer.status !== 200) return undefined;
  const body = answer.json();
  return 'index' in body && typeof body.code === 'string' ? body.code : undefined;
}
