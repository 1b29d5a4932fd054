import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../envtest/control-plane.ts';
import { startClusterWithCrds } from '../support/cluster.ts';
import { kubectlOk } from '../support/kubectl.ts';
import { startOperator, type OperatorProcess } from '../support/operator-process.ts';
import { credentialsSecret, managedAccountMfa } from '../support/resources.ts';
import { waitFor } from '../support/wait.ts';

const LEASE = ['--lease-duration', '4', '--renew-deadline', '3', '--retry-period', '1'];
let cp: ControlPlane;
const operators: OperatorProcess[] = [];

beforeAll(async () => {
  cp = await startClusterWithCrds();
});
afterAll(async () => {
  await Promise.all(operators.map((o) => o.kill('SIGKILL')));
  await cp?.stop();
});

function start(identity: string): OperatorProcess {
  const operator = startOperator(cp.kubeconfigPath, [...LEASE, '--identity', identity]);
  operators.push(operator);
  return operator;
}

async function reconciled(name: string): Promise<boolean> {
  const out = await kubectlOk(cp.kubeconfigPath, [
    'get',
    'mfa',
    name,
    '-o',
    'jsonpath={.status.conditions[?(@.type=="CredentialsValid")].reason}',
  ]);
  return out === 'CredentialsSecretFound';
}

async function holder(): Promise<string> {
  return kubectlOk(cp.kubeconfigPath, ['get', 'lease', 'mfa-operator-leader', '-o', 'jsonpath={.spec.holderIdentity}']);
}

describe('two operator replicas with leader election', () => {
  it('lets only the leader reconcile, and hands over within the lease time when it is killed', async () => {
    const first = start('replica-a');
    await first.waitForLog('became leader');
    const second = start('replica-b');
    await second.waitForLog('waiting for leadership');
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      credentialsSecret('le-login', 'default', { username: 'u', password: 'pw-le' }),
    );
    await kubectlOk(cp.kubeconfigPath, ['apply', '-f', '-'], managedAccountMfa('le', 'default'));
    await waitFor('reconciled by the leader', () => reconciled('le'));
    expect(second.records().some((r) => r.msg === 'caches synced; reconciling')).toBe(false);
    expect(await holder()).toBe('replica-a');

    const killedAt = Date.now();
    await first.kill('SIGKILL');
    await second.waitForLog('became leader', 20_000);
    const handoverMs = Date.now() - killedAt;
    // A lease of 4 s is judged expired after 4 s of the standby's own time, checked every 1 s retry period.
    expect(handoverMs).toBeLessThan(4_000 + 2 * 1_000 + 1_500);
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      managedAccountMfa('le2', 'default', { account: { credentialsSecretRef: { name: 'le-login' } } }),
    );
    await waitFor('reconciled by the new leader', () => reconciled('le2'));
    expect(await holder()).toBe('replica-b');
  });

  it('releases the lease on SIGTERM so a standby takes over at once', async () => {
    const standby = start('replica-c');
    await standby.waitForLog('waiting for leadership');
    const leader = operators.find(
      (o) =>
        o.records().some((r) => r.msg === 'became leader') && o.child.exitCode === null && o.child.signalCode === null,
    )!;
    const stoppedAt = Date.now();
    expect(await leader.kill('SIGTERM')).toBe(0);
    expect(leader.records().some((r) => r.msg === 'released leadership')).toBe(true);
    await standby.waitForLog('became leader', 10_000);
    // Released, not expired: the standby needs a retry period, not a lease duration.
    expect(Date.now() - stoppedAt).toBeLessThan(4_000);
    expect(await holder()).toBe('replica-c');
  });
});
