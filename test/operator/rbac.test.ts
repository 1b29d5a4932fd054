import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { ControlPlane } from '../envtest/control-plane.ts';
import { REPO, startClusterWithCrds } from '../support/cluster.ts';
import { kubectl, kubectlOk } from '../support/kubectl.ts';
import { startOperator, type OperatorProcess } from '../support/operator-process.ts';
import { credentialsSecret, managedAccountMfa } from '../support/resources.ts';
import { waitFor } from '../support/wait.ts';

const USER = 'mfa-operator-under-test';
const OPERATOR_NS = 'mfa-operator-system';
let cp: ControlPlane;
let operator: OperatorProcess;

interface Rule { apiGroups: string[]; resources: string[]; verbs: string[] }

function rulesOf(file: string): Rule[] {
  return parseAllDocuments(readFileSync(`${REPO}/config/rbac/${file}`, 'utf8')).flatMap((d) => (d.toJS().rules ?? []) as Rule[]);
}

beforeAll(async () => {
  cp = await startClusterWithCrds({ auditLog: true });
  const admin = cp.kubeconfigPath;
  await kubectlOk(admin, ['create', 'namespace', OPERATOR_NS]);
  await kubectlOk(admin, ['apply', '-f', `${REPO}/config/rbac/role.yaml`]);
  await kubectlOk(admin, ['apply', '-n', OPERATOR_NS, '-f', `${REPO}/config/rbac/leader_election_role.yaml`]);
  await kubectlOk(admin, ['create', 'clusterrolebinding', 'under-test', '--clusterrole=mfa-operator-manager-role', `--user=${USER}`]);
  await kubectlOk(admin, ['create', 'rolebinding', 'under-test', '-n', OPERATOR_NS, '--role=mfa-operator-leader-election-role', `--user=${USER}`]);
  const kubeconfig = await cp.createUser(USER);
  operator = startOperator(kubeconfig, ['--leader-election-namespace', OPERATOR_NS, '--retry-period', '1']);
  await operator.waitForLog('caches synced; reconciling', 60_000);
});
afterAll(async () => {
  await operator?.kill();
  await cp?.stop();
});

describe('the operator under exactly the RBAC of config/rbac', () => {
  it('is allowed everything it does, and uses every rule it is granted', async () => {
    const admin = cp.kubeconfigPath;
    await kubectlOk(admin, ['apply', '-f', '-'], managedAccountMfa('rbac', 'default'));
    await waitFor('missing Secret reported', async () => (await kubectl(admin, ['get', 'mfa', 'rbac', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].reason}'])).stdout === 'CredentialsSecretNotFound');
    await kubectlOk(admin, ['apply', '-f', '-'], credentialsSecret('rbac-login', 'default', { username: 'u', password: 'pw-rbac' }));
    await kubectlOk(admin, ['wait', '--for=condition=CredentialsValid', 'mfa/rbac', '--timeout=30s']);
    await kubectlOk(admin, ['delete', 'mfa', 'rbac', '--timeout=30s']);
    await waitFor('a lease renewal', () => operator.records().length > 0 && true);
    await new Promise((r) => setTimeout(r, 1_500));

    const events = readFileSync(cp.auditLogPath!, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
      .filter((e) => e.user?.username === USER && e.objectRef);
    const denied = events.filter((e) => e.responseStatus?.code === 403).map((e) => `${e.verb} ${e.objectRef.resource}/${e.objectRef.subresource ?? ''}`);
    expect(denied).toEqual([]);
    const used = new Set(events.map((e) => `${e.objectRef.apiGroup ?? ''}|${e.objectRef.resource}${e.objectRef.subresource ? `/${e.objectRef.subresource}` : ''}|${e.verb}`));
    const granted = [...rulesOf('role.yaml'), ...rulesOf('leader_election_role.yaml')]
      .flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}|${res}|${v}`))));
    const unused = granted.filter((g) => !used.has(g));
    expect(unused).toEqual([]);
  });
});
