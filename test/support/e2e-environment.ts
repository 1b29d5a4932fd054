import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlPlane } from '../envtest/control-plane.ts';
import { startCluster, type LocalCluster } from '../cluster/cluster.ts';
import { NETWORK } from '../cluster/network-plan.ts';
import { freeLoopbackPort } from '../envtest/ports.ts';
import { codeServiceCertificates } from './code-service-client.ts';
import { IMAGE } from '../image/image.ts';
import { REPO } from './cluster.ts';
import {
  DEMO_APP_IMAGE,
  DEMO_APP_SERVICE_IP,
  deployDemoApp,
  publishDemoAppCa,
  type DemoAppInCluster,
} from './demo-app-in-cluster.ts';
import { kubectlOk } from './kubectl.ts';
import { startOperator, type OperatorProcess } from './operator-process.ts';
import { PodLogCollector } from './pod-logs.ts';

export const OPERATOR_USER = 'mfa-operator-e2e';
const OPERATOR_NS = 'mfa-operator-system';
/** The namespace the suites put their resources in; it holds the demo app's CA ConfigMap. */
const ACCOUNTS_NS = 'default';

/**
 * Everything a user's cluster has, locally: the one-node cluster (kubelet, containerd, the product image), the
 * demo app as a Deployment and Service from its own image, and the operator as a process on this machine under
 * its RBAC (so tests can read its log, SIGKILL it and start it again).
 */
export interface E2eEnvironment {
  cluster: LocalCluster;
  cp: ControlPlane;
  app: DemoAppInCluster;
  /** spec.account fields every resource in ACCOUNTS_NS carries: the CA that signed the demo app's certificate. */
  accountTls: { caBundleRef: { configMapName: string } };
  /** The operator process now running; replaced by startOperator(). */
  operator: OperatorProcess;
  /** Every operator process started, in order (for leak scans across restarts). */
  operators: OperatorProcess[];
  /** Everything every pod printed so far (run pods and the demo app), including pods already gone. */
  podOutput(): Promise<string>;
  /**
   * Starts another operator process as the same user with the same flags, and waits until it leads and reconciles;
   * `runnerConfig` overrides run settings for this process only (e.g. a short activeDeadlineSeconds).
   */
  startOperator(readyTimeoutMs?: number, runnerConfig?: Record<string, unknown>): Promise<OperatorProcess>;
  stop(): Promise<void>;
}

export interface E2eOptions {
  /** Flags added to the operator's command line (e.g. --gcp-secret-manager-test-endpoint, --code-service-*). */
  operatorArgs?: readonly string[];
  /** More files from config/rbac whose ClusterRoles are bound to the operator's user (e.g. code_service_role.yaml). */
  extraClusterRoles?: ReadonlyArray<{ file: string; clusterRole: string }>;
}

async function grantOperatorRbac(admin: string, options: E2eOptions): Promise<void> {
  await kubectlOk(admin, ['create', 'namespace', OPERATOR_NS]);
  await kubectlOk(admin, ['apply', '--server-side', '-f', `${REPO}/config/crd/bases`]);
  await kubectlOk(admin, ['apply', '-f', `${REPO}/config/rbac/role.yaml`]);
  await kubectlOk(admin, ['apply', '-n', OPERATOR_NS, '-f', `${REPO}/config/rbac/leader_election_role.yaml`]);
  await kubectlOk(admin, [
    'create',
    'clusterrolebinding',
    'e2e-operator',
    '--clusterrole=mfa-operator-manager-role',
    `--user=${OPERATOR_USER}`,
  ]);
  await kubectlOk(admin, [
    'create',
    'rolebinding',
    'e2e-operator',
    '-n',
    OPERATOR_NS,
    '--role=mfa-operator-leader-election-role',
    `--user=${OPERATOR_USER}`,
  ]);
  // The code service serving runs is on by default, as in the chart (rotate and disable sign in with its codes).
  const codeServiceRole = { file: 'code_service_role.yaml', clusterRole: 'mfa-operator-code-service-role' };
  const extraRoles = [
    ...(options.extraClusterRoles ?? []),
    ...(ownCodeService(options) && !options.extraClusterRoles?.length ? [codeServiceRole] : []),
  ];
  for (const { file, clusterRole } of extraRoles) {
    await kubectlOk(admin, ['apply', '-f', `${REPO}/config/rbac/${file}`]);
    await kubectlOk(admin, [
      'create',
      'clusterrolebinding',
      `e2e-operator-${clusterRole}`,
      `--clusterrole=${clusterRole}`,
      `--user=${OPERATOR_USER}`,
    ]);
  }
  await kubectlOk(admin, [
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd',
    '-l',
    'app.kubernetes.io/name=mfa-operator',
  ]);
}

export async function startE2eEnvironment(
  runnerConfig: Record<string, unknown> = {},
  options: E2eOptions = {},
): Promise<E2eEnvironment> {
  const dir = await mkdtemp(join(tmpdir(), 'mfa-e2e-'));
  const cluster = await startCluster({ images: [IMAGE, DEMO_APP_IMAGE], auditLog: true, startTimeoutMs: 10 * 60_000 });
  const podLogs = new PodLogCollector(cluster.podLogsDir);
  const operators: OperatorProcess[] = [];
  const stop = async () => {
    for (const operator of operators) await operator.kill();
    await podLogs.stop();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const cp = cluster.plane;
    const admin = cp.kubeconfigPath;
    await grantOperatorRbac(admin, options);
    const app = await deployDemoApp(admin, join(dir, 'demo-app-tls'));
    const accountTls = { caBundleRef: await publishDemoAppCa(admin, app, ACCOUNTS_NS) };
    const settings = {
      imagePullPolicy: 'Never',
      retryBaseSeconds: 2,
      retryMaxSeconds: 10,
      maxAttempts: 3,
      activeDeadlineSeconds: 240,
      ...runnerConfig,
    };
    const operatorKubeconfig = await cp.createUser(OPERATOR_USER);
    const codeService = ownCodeService(options) ? await runCodeServiceArgs(dir) : [];
    // The demo connector allows loopback only unless the cluster admin names the app's host (copied into run Jobs).
    const operatorEnv = { MFA_DEMO_ALLOWED_LOGIN_HOSTS: DEMO_APP_SERVICE_IP };
    const launch = async (readyTimeoutMs = 60_000, overrides: Record<string, unknown> = {}) => {
      const file = join(dir, `runner-config-${operators.length}.json`);
      writeFileSync(file, JSON.stringify({ ...settings, ...overrides }));
      const operatorArgs = [
        '--leader-election-namespace',
        OPERATOR_NS,
        '--runner-image',
        IMAGE,
        '--runner-config',
        file,
        '--resync-period',
        '30',
        ...codeService,
        ...(options.operatorArgs ?? []),
      ];
      const operator = startOperator(operatorKubeconfig, operatorArgs, operatorEnv);
      operators.push(operator);
      await operator.waitForLog('caches synced; reconciling', readyTimeoutMs);
      return operator;
    };
    const env: E2eEnvironment = {
      cluster,
      cp,
      app,
      accountTls,
      operator: await launch(),
      operators,
      podOutput: async () => [...(await podLogs.output()).values()].join('\n'),
      async startOperator(readyTimeoutMs, overrides) {
        env.operator = await launch(readyTimeoutMs, overrides);
        return env.operator;
      },
      stop,
    };
    return env;
  } catch (e: unknown) {
    await stop();
    throw e;
  }
}

/**
 * What a user or a log pipeline sees of the runs so far: every operator process's log, every pod's log (run pods
 * and the demo app, also of pods already deleted), and the resources, Events, Jobs and Pods (with their termination
 * messages) as kubectl shows them. The secret scans search this.
 */
export async function capturedOutput(env: E2eEnvironment): Promise<string> {
  const admin = env.cp.kubeconfigPath;
  return [
    ...env.operators.map((o) => o.lines.join('\n')),
    await env.podOutput(),
    await kubectlOk(admin, ['get', 'mfa,mfasecretstores,events,jobs,pods', '-A', '-o', 'yaml']),
    await kubectlOk(admin, ['describe', 'mfa', '-A']),
  ].join('\n');
}

/** With MFA_E2E_DEBUG=FILE, writes what the suite saw to FILE (resources, operator logs, pod logs). */
export async function writeDebugDump(env: E2eEnvironment | undefined): Promise<void> {
  const file = process.env.MFA_E2E_DEBUG;
  if (!file || !env) return;
  const dump = await kubectlOk(env.cp.kubeconfigPath, ['get', 'mfa,jobs,pods,events', '-A', '-o', 'yaml']).catch(
    (e: unknown) => String(e),
  );
  writeFileSync(file, [dump, ...env.operators.map((o) => o.lines.join('\n')), await env.podOutput()].join('\n---\n'));
}

/** The operator's API calls from the audit log, as "group|resource[/sub]|verb", and the ones denied. */
export function operatorApiUse(cp: ControlPlane): { used: Set<string>; denied: string[] } {
  const events = readFileSync(cp.auditLogPath!, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((e) => e.user?.username === OPERATOR_USER && e.objectRef);
  const key = (e: any) =>
    `${e.objectRef.apiGroup ?? ''}|${e.objectRef.resource}${e.objectRef.subresource ? `/${e.objectRef.subresource}` : ''}|${e.verb}`;
  return { used: new Set(events.map(key)), denied: events.filter((e) => e.responseStatus?.code === 403).map(key) };
}

function ownCodeService(options: E2eOptions): boolean {
  return !options.operatorArgs?.includes('--code-service-port');
}

/** The operator's code service for runs: run pods reach the host operator on the node address. */
async function runCodeServiceArgs(parent: string): Promise<string[]> {
  const dir = join(parent, 'code-service');
  mkdirSync(dir, { recursive: true });
  const tls = await codeServiceCertificates(dir, [NETWORK.nodeAddress]);
  const caPath = join(dir, 'run-ca.pem');
  writeFileSync(caPath, tls.ca);
  const port = String(await freeLoopbackPort());
  return [
    '--code-service-port',
    port,
    '--code-service-cert',
    tls.certPath,
    '--code-service-key',
    tls.keyPath,
    '--code-service-run-url',
    `https://${NETWORK.nodeAddress}:${port}`,
    '--code-service-run-ca',
    caPath,
  ];
}
