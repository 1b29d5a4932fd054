// Creates N ManagedAccountMfa resources on the local control plane and measures the operator reconciling them.
// Usage: node bench/reconcile.ts [--count 1000] [--idle-seconds 60] [--other-secrets 0]     (prints JSON)
// --other-secrets N first creates N unrelated 8 KiB Secrets (a cluster's TLS keys, Helm releases) that the operator's
// Secret informer lists and watches too.
import { CustomObjectsApi, CoreV1Api } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CREDENTIALS_LABEL, CREDENTIALS_LABEL_VALUE } from '../operator/api/v1alpha1/resources.ts';
import { startClusterWithCrds } from '../test/support/cluster.ts';
import { kubectlOk } from '../test/support/kubectl.ts';
import { startOperator } from '../test/support/operator-process.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '1000' }, 'idle-seconds': { type: 'string', default: '60' }, 'other-secrets': { type: 'string', default: '0' } } });
const COUNT = Number(values.count);
const IDLE_SECONDS = Number(values['idle-seconds']);
const OTHER_SECRETS = Number(values['other-secrets']);
const USER = 'mfa-operator-bench';
const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete']);

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function memoryMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function createOtherSecrets(core: CoreV1Api): Promise<void> {
  const filler = 'x'.repeat(8 * 1024);
  for (let i = 0; i < OTHER_SECRETS; i += 25) {
    await Promise.all(Array.from({ length: Math.min(25, OTHER_SECRETS - i) }, (_, j) => core.createNamespacedSecret({
      namespace: 'default', body: { metadata: { name: `other-${i + j}`, annotations: { note: filler } }, stringData: { 'tls.key': filler } },
    })));
  }
}

function operatorRequests(auditLog: string, since = 0): { total: number; writes: number } {
  const events = readFileSync(auditLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((e) => e.user?.username === USER && e.stage === 'ResponseComplete' && Date.parse(e.requestReceivedTimestamp) >= since);
  return { total: events.length, writes: events.filter((e) => WRITE_VERBS.has(e.verb)).length };
}

async function createAll(custom: CustomObjectsApi): Promise<void> {
  const names = Array.from({ length: COUNT }, (_, i) => `bench-${i}`);
  for (let i = 0; i < names.length; i += 25) {
    await Promise.all(names.slice(i, i + 25).map((name) => custom.createNamespacedCustomObject({
      group: 'mfa-operator.io', version: 'v1alpha1', namespace: 'default', plural: 'managedaccountmfas',
      body: { apiVersion: 'mfa-operator.io/v1alpha1', kind: 'ManagedAccountMfa', metadata: { name },
        spec: { connector: 'demo', account: { credentialsSecretRef: { name: 'bench-login' } } } },
    })));
  }
}

async function countReconciled(custom: CustomObjectsApi): Promise<number> {
  const list = (await custom.listNamespacedCustomObject({ group: 'mfa-operator.io', version: 'v1alpha1', namespace: 'default', plural: 'managedaccountmfas' })) as { items: any[] };
  return list.items.filter((m) => m.status?.conditions?.some((c: any) => c.type === 'CredentialsValid' && c.status === 'True')).length;
}

const cp = await startClusterWithCrds({ auditLog: true });
try {
  await kubectlOk(cp.kubeconfigPath, ['create', 'clusterrolebinding', 'bench', '--clusterrole=cluster-admin', `--user=${USER}`]);
  const kc = cp.kubeConfig();
  const custom = kc.makeApiClient(CustomObjectsApi);
  await createOtherSecrets(kc.makeApiClient(CoreV1Api));
  await kc.makeApiClient(CoreV1Api).createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'bench-login', labels: { [CREDENTIALS_LABEL]: CREDENTIALS_LABEL_VALUE } }, stringData: { username: 'u', password: 'p' } } });
  const operator = startOperator(await cp.createUser(USER), ['--no-leader-elect', '--workers', '4']);
  await operator.waitForLog('caches synced; reconciling', 60_000);
  const rssAfterCacheSyncMiB = memoryMiB(operator.child.pid!, 'VmRSS');
  const started = Date.now();
  await createAll(custom);
  const createdSeconds = (Date.now() - started) / 1000;
  while ((await countReconciled(custom)) < COUNT) await new Promise((r) => setTimeout(r, 500));
  const reconciledSeconds = (Date.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 2_000));
  const busy = operatorRequests(cp.auditLogPath!);
  const pid = operator.child.pid!;
  const idleFrom = Date.now();
  const cpuBefore = cpuSeconds(pid);
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  const idle = operatorRequests(cp.auditLogPath!, idleFrom);
  const idleRssMiB = memoryMiB(pid, 'VmRSS');
  console.log(JSON.stringify({
    resources: COUNT,
    otherSecrets: OTHER_SECRETS,
    // Idle with no resources yet: caches synced, nothing to reconcile.
    operatorRssAfterCacheSyncMiB: rssAfterCacheSyncMiB,
    secondsToCreateAll: createdSeconds,
    secondsUntilAllReconciled: reconciledSeconds,
    operatorApiRequestsPerResource: Number((busy.total / COUNT).toFixed(2)),
    operatorApiWritesPerResource: Number((busy.writes / COUNT).toFixed(2)),
    operatorPeakRssMiB: memoryMiB(pid, 'VmHWM'),
    idle: { seconds: IDLE_SECONDS, apiWrites: idle.writes, apiRequests: idle.total, cpuSeconds: Number((cpuSeconds(pid) - cpuBefore).toFixed(2)), rssMiB: idleRssMiB },
  }, null, 2));
  await operator.kill();
} finally {
  await cp.stop();
}
