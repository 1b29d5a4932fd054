import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDemoApp, type DemoApp } from '../../connectors/demo/app/demo-app.ts';
import { startLocalJobRunner, type LocalJobRunner } from '../../hack/dev/job-runner/job-runner.ts';
import { createLogger } from '../../operator/logging/logger.ts';
import type { ControlPlane } from '../envtest/control-plane.ts';
import { freeLoopbackPort } from '../envtest/ports.ts';
import { REPO, startClusterWithCrds } from './cluster.ts';
import { codeServiceCertificates } from './code-service-client.ts';
import { kubectlOk } from './kubectl.ts';
import { startOperator, type OperatorProcess } from './operator-process.ts';

export const OPERATOR_USER = 'mfa-operator-e2e';
const OPERATOR_NS = 'mfa-operator-system';

/** Everything a user's cluster has, locally: API server, the operator under its RBAC, a kubelet stand-in, the app. */
export interface E2eEnvironment {
  cp: ControlPlane;
  app: DemoApp;
  jobRunner: LocalJobRunner;
  /** The operator process now running; replaced by startOperator(). */
  operator: OperatorProcess;
  /** Every operator process started, in order (for leak scans across restarts). */
  operators: OperatorProcess[];
  /** Everything the runner pods printed. */
  podOutput: string[];
  /** Starts another operator process as the same user with the same flags, and waits until it leads and reconciles. */
  startOperator(readyTimeoutMs?: number): Promise<OperatorProcess>;
  stop(): Promise<void>;
}

export interface E2eOptions {
  /** Flags added to the operator's command line (e.g. --gcp-secret-manager-test-endpoint, --code-service-*). */
  operatorArgs?: readonly string[];
  /** More files from config/rbac whose ClusterRoles are bound to the operator's user (e.g. code_service_role.yaml). */
  extraClusterRoles?: ReadonlyArray<{ file: string; clusterRole: string }>;
}

export async function startE2eEnvironment(runnerConfig: Record<string, unknown> = {}, options: E2eOptions = {}): Promise<E2eEnvironment> {
  const cp = await startClusterWithCrds({ auditLog: true });
  const admin = cp.kubeconfigPath;
  await kubectlOk(admin, ['create', 'namespace', OPERATOR_NS]);
  await kubectlOk(admin, ['apply', '-f', `${REPO}/config/rbac/role.yaml`]);
  await kubectlOk(admin, ['apply', '-n', OPERATOR_NS, '-f', `${REPO}/config/rbac/leader_election_role.yaml`]);
  await kubectlOk(admin, ['create', 'clusterrolebinding', 'e2e-operator', '--clusterrole=mfa-operator-manager-role', `--user=${OPERATOR_USER}`]);
  await kubectlOk(admin, ['create', 'rolebinding', 'e2e-operator', '-n', OPERATOR_NS, '--role=mfa-operator-leader-election-role', `--user=${OPERATOR_USER}`]);
  // The code service serving runs, on by default as in the chart (rotate and disable sign in with codes from it),
  // unless the suite configures its own.
  const codeService = options.operatorArgs?.includes('--code-service-port') ? undefined : await runCodeServiceArgs(join(cp.kubeconfigPath, '..'));
  const codeServiceRole = { file: 'code_service_role.yaml', clusterRole: 'mfa-operator-code-service-role' };
  const extraRoles = [...(options.extraClusterRoles ?? []), ...(codeService && !options.extraClusterRoles?.length ? [codeServiceRole] : [])];
  for (const { file, clusterRole } of extraRoles) {
    await kubectlOk(admin, ['apply', '-f', `${REPO}/config/rbac/${file}`]);
    await kubectlOk(admin, ['create', 'clusterrolebinding', `e2e-operator-${clusterRole}`, `--clusterrole=${clusterRole}`, `--user=${OPERATOR_USER}`]);
  }
  const app = await startDemoApp({ logger: createLogger('demo-app', { level: 'silent' }) });
  const podOutput: string[] = [];
  const jobRunner = await startLocalJobRunner({
    kubeconfig: admin, log: createLogger('local-job-runner', { level: 'warn' }),
    onContainerOutput: (_pod, _stream, chunk) => podOutput.push(chunk.toString()),
  });
  const settings = join(cp.kubeconfigPath, '..', 'runner-config.json');
  writeFileSync(settings, JSON.stringify({ retryBaseSeconds: 2, retryMaxSeconds: 10, maxAttempts: 3, activeDeadlineSeconds: 240, ...runnerConfig }));
  const operatorKubeconfig = await cp.createUser(OPERATOR_USER);
  const operatorArgs = [
    '--leader-election-namespace', OPERATOR_NS, '--runner-image', 'mfa-operator:e2e', '--runner-config', settings, '--resync-period', '30',
    ...(codeService ?? []), ...(options.operatorArgs ?? []),
  ];
  const operators: OperatorProcess[] = [];
  const launch = async (readyTimeoutMs = 60_000) => {
    const operator = startOperator(operatorKubeconfig, operatorArgs);
    operators.push(operator);
    await operator.waitForLog('caches synced; reconciling', readyTimeoutMs);
    return operator;
  };
  const env: E2eEnvironment = {
    cp, app, jobRunner, operator: await launch(), operators, podOutput,
    async startOperator(readyTimeoutMs) {
      env.operator = await launch(readyTimeoutMs);
      return env.operator;
    },
    async stop() {
      for (const operator of operators) await operator.kill();
      await jobRunner.stop();
      await app.stop();
      await cp.stop();
    },
  };
  return env;
}

/** Code service flags with a fixed loopback port: run pods are host processes here, so they reach it at 127.0.0.1. */
async function runCodeServiceArgs(parent: string): Promise<string[]> {
  const dir = join(parent, 'code-service');
  mkdirSync(dir, { recursive: true });
  const tls = await codeServiceCertificates(dir);
  const caPath = join(dir, 'run-ca.pem');
  writeFileSync(caPath, tls.ca);
  const port = String(await freeLoopbackPort());
  return ['--code-service-port', port, '--code-service-cert', tls.certPath, '--code-service-key', tls.keyPath,
    '--code-service-run-url', `https://127.0.0.1:${port}`, '--code-service-run-ca', caPath];
}

/**
 * What a user or a log pipeline sees of the runs so far: every operator process's log, every run pod's output, and
 * the resources, Events, Jobs and Pods (with their termination messages) as kubectl shows them. The secret scans
 * search this.
 */
export async function capturedOutput(env: E2eEnvironment): Promise<string> {
  const admin = env.cp.kubeconfigPath;
  return [
    ...env.operators.map((o) => o.lines.join('\n')), env.podOutput.join(''),
    await kubectlOk(admin, ['get', 'mfa,mfasecretstores,events,jobs,pods', '-A', '-o', 'yaml']),
    await kubectlOk(admin, ['describe', 'mfa', '-A']),
  ].join('\n');
}
/** The operator's API calls from the audit log, as "group|resource[/sub]|verb", and the ones denied. */
export function operatorApiUse(cp: ControlPlane): { used: Set<string>; denied: string[] } {
  const events = readFileSync(cp.auditLogPath!, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((e) => e.user?.username === OPERATOR_USER && e.objectRef);
  const key = (e: any) => `${e.objectRef.apiGroup ?? ''}|${e.objectRef.resource}${e.objectRef.subresource ? `/${e.objectRef.subresource}` : ''}|${e.verb}`;
  return { used: new Set(events.map(key)), denied: events.filter((e) => e.responseStatus?.code === 403).map(key) };
}
