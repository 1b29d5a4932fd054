import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDemoApp, type DemoApp } from '../../connectors/demo/app/demo-app.ts';
import { startLocalJobRunner, type LocalJobRunner } from '../../hack/dev/job-runner/job-runner.ts';
import { createLogger } from '../../operator/logging/logger.ts';
import type { ControlPlane } from '../envtest/control-plane.ts';
import { REPO, startClusterWithCrds } from './cluster.ts';
import { kubectlOk } from './kubectl.ts';
import { startOperator, type OperatorProcess } from './operator-process.ts';

export const OPERATOR_USER = 'mfa-operator-e2e';
const OPERATOR_NS = 'mfa-operator-system';

/** Everything a user's cluster has, locally: API server, the operator under its RBAC, a kubelet stand-in, the app. */
export interface E2eEnvironment {
  cp: ControlPlane;
  app: DemoApp;
  jobRunner: LocalJobRunner;
  operator: OperatorProcess;
  /** Everything the runner pods printed. */
  podOutput: string[];
  stop(): Promise<void>;
}

export async function startE2eEnvironment(runnerConfig: Record<string, unknown> = {}): Promise<E2eEnvironment> {
  const cp = await startClusterWithCrds({ auditLog: true });
  const admin = cp.kubeconfigPath;
  await kubectlOk(admin, ['create', 'namespace', OPERATOR_NS]);
  await kubectlOk(admin, ['apply', '-f', `${REPO}/config/rbac/role.yaml`]);
  await kubectlOk(admin, ['apply', '-n', OPERATOR_NS, '-f', `${REPO}/config/rbac/leader_election_role.yaml`]);
  await kubectlOk(admin, ['create', 'clusterrolebinding', 'e2e-operator', '--clusterrole=mfa-operator-manager-role', `--user=${OPERATOR_USER}`]);
  await kubectlOk(admin, ['create', 'rolebinding', 'e2e-operator', '-n', OPERATOR_NS, '--role=mfa-operator-leader-election-role', `--user=${OPERATOR_USER}`]);
  const app = await startDemoApp({ logger: createLogger('demo-app', { level: 'silent' }) });
  const podOutput: string[] = [];
  const jobRunner = await startLocalJobRunner({
    kubeconfig: admin, log: createLogger('local-job-runner', { level: 'warn' }),
    onContainerOutput: (_pod, _stream, chunk) => podOutput.push(chunk.toString()),
  });
  const settings = join(cp.kubeconfigPath, '..', 'runner-config.json');
  writeFileSync(settings, JSON.stringify({ retryBaseSeconds: 2, retryMaxSeconds: 10, maxAttempts: 3, activeDeadlineSeconds: 240, ...runnerConfig }));
  const operator = startOperator(await cp.createUser(OPERATOR_USER), [
    '--leader-election-namespace', OPERATOR_NS, '--runner-image', 'mfa-operator:e2e', '--runner-config', settings, '--resync-period', '30',
  ]);
  await operator.waitForLog('caches synced; reconciling', 60_000);
  return {
    cp, app, jobRunner, operator, podOutput,
    async stop() {
      await operator.kill();
      await jobRunner.stop();
      await app.stop();
      await cp.stop();
    },
  };
}

/** The operator's API calls from the audit log, as "group|resource[/sub]|verb", and the ones denied. */
export function operatorApiUse(cp: ControlPlane): { used: Set<string>; denied: string[] } {
  const events = readFileSync(cp.auditLogPath!, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((e) => e.user?.username === OPERATOR_USER && e.objectRef);
  const key = (e: any) => `${e.objectRef.apiGroup ?? ''}|${e.objectRef.resource}${e.objectRef.subresource ? `/${e.objectRef.subresource}` : ''}|${e.verb}`;
  return { used: new Set(events.map(key)), denied: events.filter((e) => e.responseStatus?.code === 403).map(key) };
}
