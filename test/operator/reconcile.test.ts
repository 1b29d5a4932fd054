import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../envtest/control-plane.ts';
import { startClusterWithCrds } from '../support/cluster.ts';
import { kubectl, kubectlOk } from '../support/kubectl.ts';
import { startOperator, type OperatorProcess } from '../support/operator-process.ts';
import { credentialsSecret, managedAccountMfa } from '../support/resources.ts';
import { waitFor } from '../support/wait.ts';

let cp: ControlPlane;
let operator: OperatorProcess;
const ns = 'default';

beforeAll(async () => {
  cp = await startClusterWithCrds();
  operator = startOperator(cp.kubeconfigPath, ['--no-leader-elect', '--resync-period', '1']);
  await operator.waitForLog('caches synced; reconciling');
});
afterAll(async () => {
  await operator?.kill();
  await cp?.stop();
});

async function getMfa(name: string): Promise<any> {
  return JSON.parse(await kubectlOk(cp.kubeconfigPath, ['get', 'mfa', name, '-n', ns, '-o', 'json']));
}

function condition(mfa: any, type: string): any {
  return mfa.status?.conditions?.find((c: any) => c.type === type);
}

async function waitForCondition(name: string, type: string, reason: string): Promise<any> {
  return waitFor(`${name} ${type} reason ${reason}`, async () => {
    const mfa = await getMfa(name);
    return condition(mfa, type)?.reason === reason ? mfa : undefined;
  });
}

describe('the operator reconciling ManagedAccountMfa on a real API server', () => {
  it('adds its finalizer, writes conditions for the current generation and one Event kubectl describe shows', async () => {
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      credentialsSecret('happy-login', ns, { username: 'u@example.com', password: 'pw-happy-1' }),
    );
    await kubectlOk(cp.kubeconfigPath, ['apply', '-f', '-'], managedAccountMfa('happy', ns));
    const mfa = await waitForCondition('happy', 'CredentialsValid', 'CredentialsSecretFound');
    expect(mfa.metadata.finalizers).toContain('mfa-operator.io/finalizer');
    for (const c of mfa.status.conditions) expect(c.observedGeneration).toBe(mfa.metadata.generation);
    expect(mfa.status.observedGeneration).toBe(mfa.metadata.generation);
    // Without a runner image the operator says so rather than pretending MFA is on.
    expect(condition(mfa, 'Ready')).toMatchObject({ status: 'Unknown', reason: 'AutomationNotConfigured' });
    // One Event says where it stands; the references found on a first visit are routine and get none.
    const describe = await waitFor('the Event in kubectl describe', async () => {
      const out = await kubectlOk(cp.kubeconfigPath, ['describe', 'mfa', 'happy', '-n', ns]);
      return /Normal\s+AutomationNotConfigured/.test(out) ? out : undefined;
    });
    expect(describe).not.toMatch(/Normal\s+(CredentialsSecretFound|SecretStoreFound|Reconciling)/);
    expect(await kubectlOk(cp.kubeconfigPath, ['get', 'mfa', 'happy', '-n', ns])).toMatch(
      /happy\s+demo\s+happy\s+\S*\s*Unknown\s+AutomationNotConfigured/,
    );
  });

  it('reports a missing, then incomplete credentials Secret, and recovers when it is fixed, without a restart', async () => {
    await kubectlOk(cp.kubeconfigPath, ['apply', '-f', '-'], managedAccountMfa('fixme', ns));
    const missing = await waitForCondition('fixme', 'Ready', 'CredentialsSecretNotFound');
    expect(condition(missing, 'Ready').status).toBe('False');
    expect(condition(missing, 'CredentialsValid').message).toMatch(
      /No Secret "fixme-login".*mfa-operator.io\/credentials=true in namespace "default"/,
    );
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      credentialsSecret('fixme-login', ns, { username: 'u@example.com' }),
    );
    const incomplete = await waitForCondition('fixme', 'CredentialsValid', 'CredentialsKeyMissing');
    expect(condition(incomplete, 'CredentialsValid').message).toContain('"password"');
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      credentialsSecret('fixme-login', ns, { username: 'u@example.com', password: 'pw-fixme-2' }),
    );
    await waitForCondition('fixme', 'CredentialsValid', 'CredentialsSecretFound');
    await kubectlOk(cp.kubeconfigPath, [
      'wait',
      '--for=condition=CredentialsValid',
      'mfa/fixme',
      '-n',
      ns,
      '--timeout=30s',
    ]);
    const events = await kubectlOk(cp.kubeconfigPath, [
      'get',
      'events',
      '-n',
      ns,
      '--field-selector',
      'involvedObject.name=fixme',
      '-o',
      'json',
    ]);
    const reasons = JSON.parse(events).items.map((e: any) => e.reason);
    expect(reasons).toEqual(
      expect.arrayContaining(['CredentialsSecretNotFound', 'CredentialsKeyMissing', 'CredentialsSecretFound']),
    );
  });

  it('refuses an unknown connector and a store that does not exist or does not allow the namespace', async () => {
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      credentialsSecret('odd-login', ns, { username: 'u', password: 'pw-odd-3' }),
    );
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      managedAccountMfa('odd', ns, {
        connector: 'nosuchapp',
        account: { credentialsSecretRef: { name: 'odd-login' } },
      }),
    );
    expect(condition(await waitForCondition('odd', 'Ready', 'UnknownConnector'), 'Ready').message).toMatch(
      /spec\.connector "nosuchapp"/,
    );
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      managedAccountMfa('stored', ns, {
        account: { credentialsSecretRef: { name: 'odd-login' } },
        secretStoreRef: { kind: 'ClusterMfaSecretStore', name: 'shared' },
      }),
    );
    await waitForCondition('stored', 'SecretStoreReady', 'SecretStoreNotFound');
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      'apiVersion: mfa-operator.io/v1alpha1\nkind: ClusterMfaSecretStore\nmetadata: {name: shared}\nspec: {provider: {kubernetes: {}}, conditions: {namespaces: [elsewhere]}}\n',
    );
    await waitForCondition('stored', 'SecretStoreReady', 'SecretStoreNotAllowed');
    await kubectlOk(cp.kubeconfigPath, ['label', 'namespace', ns, 'mfa-store=shared']);
    await kubectlOk(cp.kubeconfigPath, [
      'patch',
      'clustermfasecretstore',
      'shared',
      '--type=merge',
      '-p',
      '{"spec":{"conditions":{"namespaceSelector":{"matchLabels":{"mfa-store":"shared"}}}}}',
    ]);
    await waitForCondition('stored', 'SecretStoreReady', 'SecretStoreFound');
  });

  it('removes its finalizer when the resource is deleted', async () => {
    await kubectlOk(cp.kubeconfigPath, ['apply', '-f', '-'], managedAccountMfa('gone', ns));
    await waitFor('finalizer', async () =>
      (await getMfa('gone')).metadata.finalizers?.includes('mfa-operator.io/finalizer'),
    );
    await kubectlOk(cp.kubeconfigPath, ['delete', 'mfa', 'gone', '-n', ns, '--timeout=30s']);
    const after = await kubectl(cp.kubeconfigPath, ['get', 'mfa', 'gone', '-n', ns]);
    expect(after.stderr).toMatch(/NotFound/);
  });

  it('recovers its watches after the API server restarts', async () => {
    await cp.restartApiServer();
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      credentialsSecret('later-login', ns, { username: 'u', password: 'pw-later-4' }),
    );
    await kubectlOk(cp.kubeconfigPath, ['apply', '-f', '-'], managedAccountMfa('later', ns));
    const mfa = await waitForCondition('later', 'CredentialsValid', 'CredentialsSecretFound');
    expect(mfa.metadata.finalizers).toContain('mfa-operator.io/finalizer');
    expect(operator.child.exitCode).toBeNull();
  });

  it('writes nothing when nothing changed (resyncs every second are no-ops)', async () => {
    const port = await operator.httpPort();
    const reconciles = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return Number(
        /mfa_operator_reconcile_total\{controller="managedaccountmfa",result="success"\} (\d+)/.exec(text)?.[1] ?? 0,
      );
    };
    const before = await getMfa('happy');
    const reconcilesBefore = await reconciles();
    // Several resyncs, however slowly a loaded machine runs them, rather than a fixed wait.
    await waitFor('three more reconciles', async () => (await reconciles()) >= reconcilesBefore + 3, 60_000);
    expect((await getMfa('happy')).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  it('exits at once on SIGTERM while its caches cannot sync (its user has no RBAC yet), without waiting for them', async () => {
    const unauthorized = startOperator(await cp.createUser('mfa-operator-no-rbac'), ['--no-leader-elect']);
    try {
      await unauthorized.waitForLog('watch failed; restarting informer');
      expect(unauthorized.records().some((r) => r.msg === 'caches synced; reconciling')).toBe(false);
      const exit = unauthorized.kill('SIGTERM');
      const code = await Promise.race([
        exit,
        new Promise((resolve) => setTimeout(() => resolve('still running after 20 s'), 20_000)),
      ]);
      expect(code).toBe(0);
    } finally {
      await unauthorized.kill('SIGKILL');
    }
  });

  it('never logs a password it read', () => {
    const all = operator.lines.join('\n');
    for (const password of ['pw-happy-1', 'pw-fixme-2', 'pw-odd-3', 'pw-later-4']) expect(all).not.toContain(password);
  });
});
